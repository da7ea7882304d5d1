"""The note flow: understand a note, file it under a customer, schedule the follow-up, confirm.

Used by typed notes, /log, voice transcripts and forwarded messages alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.context import Ctx
from bot.render import amount_text, esc, when
from core.chat import Button, Reply
from core.events import FollowUpsChanged
from core.models import Contact, Customer, FollowUp, Interaction
from core.services import customers as customer_service
from core.services import followups, interactions
from core.services.directory import directory
from core.services.interactions import Source
from core.understanding import NoteDraft, parse_note

MAX_CHOICES = 5


def source_of(ctx: Ctx) -> Source:
    env = ctx.incoming.env
    return Source(env.chat.platform, env.chat.chat_id, env.message_id)


def understand(ctx: Ctx, text: str) -> NoteDraft:
    index = directory.index(ctx.uow.session, ctx.actor.team_id)
    return parse_note(text, now=ctx.now, tz=ctx.tz, customers=index)


@dataclass
class Filing:
    customer: Customer | None
    candidates: list[Customer]
    mention: str | None
    created: bool = False


def choose_customer(ctx: Ctx, draft: NoteDraft) -> Filing:
    """The customer a draft is about: known, newly introduced, or (when unclear) nobody yet, with candidates."""
    session, actor = ctx.uow.session, ctx.actor
    known = [c for c in draft.customer_candidates if c.id is not None]
    visible = [customer for c in known if (customer := _visible(ctx, c.id))]
    if draft.customer_known and draft.customer_id is not None and (chosen := _visible(ctx, draft.customer_id)):
        return Filing(chosen, visible, draft.customer)
    if len(visible) > 1:
        return Filing(None, visible, draft.customer)
    if draft.customer:
        resolution = customer_service.resolve_customer(session, actor, draft.customer)
        if resolution.customer is not None:
            return Filing(resolution.customer, list(resolution.candidates), draft.customer)
        if resolution.candidates:
            return Filing(None, list(resolution.candidates), draft.customer)
        created = customer_service.create_customer(session, actor, draft.customer)
        return Filing(created, [], draft.customer, created=True)
    return Filing(visible[0] if len(visible) == 1 else None, visible, None)


def _visible(ctx: Ctx, customer_id: int | None) -> Customer | None:
    customer = ctx.uow.session.get(Customer, customer_id) if customer_id else None
    return customer if customer and ctx.actor.can_see(customer) and customer.merged_into_id is None else None


def log_note(ctx: Ctx, text: str, *, source: Source | None, kind: str | None = None,
             transcript: str | None = None, details: dict[str, Any] | None = None,
             parse_text: str | None = None, header: str | None = None) -> list[Reply]:
    """Log `text` as an interaction; reply with the confirmation card or the question to ask."""
    draft = understand(ctx, parse_text if parse_text is not None else text)
    if draft.is_empty and not transcript:
        return [Reply(ctx.t("notes.what_to_log"))]
    if source and (existing := interactions.find_by_source(ctx.uow.session, source)):
        return [card(ctx, existing)]
    filing = choose_customer(ctx, draft)
    contact_id = _contact_for(ctx, filing.customer, draft.contact)
    info = {**(details or {}), "draft": draft.to_json(), "mention": filing.mention,
            "candidates": [c.id for c in filing.candidates][:MAX_CHOICES], "new_customer": filing.created}
    interaction, _ = interactions.log_interaction(
        ctx.uow.session, ctx.actor, text=text, kind=kind or draft.kind,
        customer_id=filing.customer.id if filing.customer else None, contact_id=contact_id,
        occurred_at=draft.occurred_at or ctx.now, amounts=[_amount(a) for a in draft.amounts], details=info,
        transcript=transcript, source=source)
    if draft.follow_up is not None:
        followups.schedule(ctx.uow.session, ctx.actor, due_at=draft.follow_up.due, action=draft.follow_up.action,
                           customer_id=interaction.customer_id, source_interaction_id=interaction.id,
                           explicit_time=draft.follow_up.explicit_time)
        ctx.uow.publish(FollowUpsChanged())
    reply = card(ctx, interaction) if filing.customer else ask_customer(ctx, interaction)
    return [Reply(f"{header}\n{reply.text}" if header else reply.text, buttons=reply.buttons)]


def _amount(amount: Any) -> dict:
    data = {"value": amount.value}
    if amount.currency:
        data["currency"] = amount.currency
    if amount.unit:
        data["unit"] = amount.unit
    return data


def _contact_for(ctx: Ctx, customer: Customer | None, name: str | None) -> int | None:
    if customer is None or customer.id is None or not name:
        return None
    found = customer_service.find_contact(ctx.uow.session, customer.id, name)
    contact = found or customer_service.add_contact(ctx.uow.session, ctx.actor, customer.id, name)
    return contact.id


def card(ctx: Ctx, interaction: Interaction, *, edit: bool = False) -> Reply:
    """The compact confirmation: customer · contact · what · next step and date, with fix/undo buttons."""
    if interaction.deleted_at is not None:
        return Reply(ctx.t("notes.undone"), edit=edit)
    if interaction.customer_id is None:
        return ask_customer(ctx, interaction, edit=edit)
    customer = ctx.uow.session.get(Customer, interaction.customer_id)
    contact = ctx.uow.session.get(Contact, interaction.contact_id) if interaction.contact_id else None
    parts = [f"<b>{esc(customer.name if customer else '?')}</b>"]
    if interaction.details.get("new_customer"):
        parts[0] += " " + ctx.t("notes.new_badge")
    if contact:
        parts.append(esc(contact.name))
    parts.append(ctx.t(f"kinds.{interaction.kind}"))
    lines = [ctx.t("notes.logged", summary=" · ".join(parts))]
    if interaction.amounts:
        lines.append("📦 " + ", ".join(esc(amount_text(a)) for a in interaction.amounts))
    if interaction.transcript:
        lines.append("🎙 " + esc(interaction.transcript))
        if interaction.details.get("low_confidence"):
            lines.append(ctx.t("notes.low_confidence"))
    follow_up = followups.for_interaction(ctx.uow.session, interaction.id or 0)
    if follow_up is not None:
        due = when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        lines.append(ctx.t("notes.next_step", action=esc(follow_up.action or ctx.t("notes.follow_up")), due=due))
    iid = interaction.id
    first = (Button(ctx.t("notes.btn_customer"), f"n:cc:{iid}"), Button(ctx.t("notes.btn_date"), f"n:cd:{iid}"))
    second = (Button(ctx.t("notes.btn_no_follow_up"), f"n:nf:{iid}"),) if follow_up else ()
    second += (Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}"),)
    return Reply("\n".join(lines), buttons=(first, second), edit=edit)


def ask_customer(ctx: Ctx, interaction: Interaction, *, edit: bool = False,
                 candidates: list[Customer] | None = None) -> Reply:
    """Ask which customer a record is about: the candidates, a new customer from the mention, or type it."""
    if candidates is None:
        ids = interaction.details.get("candidates") or []
        candidates = [c for cid in ids if (c := _visible(ctx, cid))]
        if not candidates:
            candidates = customer_service.list_customers(ctx.uow.session, ctx.actor, limit=MAX_CHOICES)
    iid = interaction.id
    rows: list[tuple[Button, ...]] = [(Button(c.name[:40], f"n:sc:{iid}:{c.id}"),) for c in candidates[:MAX_CHOICES]]
    mention = interaction.details.get("mention")
    if mention and not any(c.name == mention for c in candidates):
        rows.append((Button(ctx.t("notes.btn_new_customer", name=mention[:30]), f"n:nc:{iid}"),))
    rows.append((Button(ctx.t("notes.btn_type_name"), f"n:tn:{iid}"), Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}")))
    preview = interaction.text if len(interaction.text) <= 120 else interaction.text[:117] + "…"
    key = "notes.which_customer_ambiguous" if mention and candidates else "notes.which_customer"
    text = ctx.t(key, mention=esc(mention or ""), preview=esc(preview))
    if interaction.transcript and interaction.details.get("low_confidence"):
        text += "\n" + ctx.t("notes.low_confidence")
    return Reply(text, buttons=tuple(rows), edit=edit)


def follow_up_of(ctx: Ctx, interaction: Interaction) -> FollowUp | None:
    return followups.for_interaction(ctx.uow.session, interaction.id or 0)
