"""Chat exports shared with the bot: parsed, stored on the right customer once, promises proposed as buttons.

The whole import is one unit of work (the update's transaction): a failure leaves nothing behind.
Questions the file cannot answer are asked with buttons after the messages are safely stored:
which customer (the note flow's `n:` buttons) and which participant is the salesperson (`im:me`).
A file whose day/month order cannot be told is parked in the spool directory until the member says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from bot.context import Ctx
from bot.notes import ask_customer
from bot.render import esc, when
from bot.router import button
from core.chat import Button, Reply
from core.events import FollowUpsChanged
from core.exports import ExportError, ParsedConversation, parse_export
from core.models import ConversationMessage, Customer, Interaction
from core.services import chat_import, followups, interactions, teams
from core.services import customers as customer_service
from core.understanding import parse_note

log = logging.getLogger(__name__)
PROGRESS_AT = 5_000  # messages; larger imports announce themselves before the work starts
NOT_EXPORTS = {"unknown_format", "binary"}


async def import_chat_file(ctx: Ctx, data: bytes, file_name: str | None,
                           date_order: str | None = None) -> list[Reply] | None:
    """Import a chat export; None when `data` is not one at all (the caller declines the file).

    A broken export (a truncated zip, invalid JSON, no messages) gets a reply saying what was expected."""
    try:
        conversation = await asyncio.to_thread(parse_export, data, tz=ctx.actor.zone, file_name=file_name,
                                               date_order=date_order)  # type: ignore[arg-type]
    except ExportError as error:
        if error.code == "ambiguous_dates":
            return [_ask_date_order(ctx, data, file_name)]
        if error.code in NOT_EXPORTS:
            return None
        return [Reply(ctx.t(f"imports.error_{error.code}"))]
    if len(conversation.messages) >= PROGRESS_AT:
        await _progress(ctx, len(conversation.messages))
    return store(ctx, conversation)


async def _progress(ctx: Ctx, count: int) -> None:
    messenger = ctx.deps.messenger(ctx.incoming.env.chat.platform)
    if messenger is None:
        return
    try:
        await messenger.send(ctx.incoming.env.chat, Reply(ctx.t("imports.working", n=f"{count:,}")))
    except Exception:  # only the progress line is lost
        log.warning("could not send import progress", exc_info=True)


def member_names(ctx: Ctx) -> list[str]:
    """Every name the salesperson may appear under in an export."""
    sender = ctx.incoming.env.sender
    names = chat_import.known_names(ctx.uow.session, teams.member_row(ctx.uow.session, ctx.actor.member_id)) if ctx.member else []
    return [*names, *(n for n in (sender.display_name, sender.username) if n)]


def store(ctx: Ctx, conversation: ParsedConversation) -> list[Reply]:
    """Store a parsed conversation on the customer it is with (or unfiled, asking which)."""
    session, actor = ctx.uow.session, ctx.actor
    me = chat_import.member_side(conversation.participants, member_names(ctx))
    others = [p for p in conversation.participants if p != me]
    customer = chat_import.guess_customer(session, actor, others, conversation.title)
    result = chat_import.store_conversation(session, actor, conversation.messages, fmt=conversation.format,
                                            title=conversation.title, me=me, customer=customer,
                                            note_parser=parse_note, now=ctx.now, tz=actor.timezone)
    if result.interaction is None:
        return [Reply(ctx.t("imports.nothing_new", n=result.duplicates))]
    interaction = result.interaction
    mention = conversation.title or (others[0] if len(others) == 1 else None)
    candidates = customer_service.resolve_customer(session, actor, mention).candidates if mention else ()
    interaction.details = {**interaction.details, "mention": mention,
                           "participants": conversation.participants[:8],
                           "candidates": [c.id for c in candidates][:6]}
    session.add(interaction)
    session.flush()
    replies = [summary(ctx, interaction)]
    if customer is None:
        replies.append(ask_customer(ctx, interaction))
    return replies


def summary(ctx: Ctx, interaction: Interaction, *, edit: bool = False) -> Reply:
    """Messages, date range, customer and proposed follow-ups, with buttons to accept them."""
    info = interaction.details.get("import") or {}
    customer = ctx.uow.session.get(Customer, interaction.customer_id) if interaction.customer_id else None
    iid = interaction.id
    lines = [ctx.t("imports.done", n=f"{info.get('messages', 0):,}", format=esc(info.get("format", "")))]
    first, last = _range(ctx, interaction)
    if first:
        lines.append(ctx.t("imports.range", first=first, last=last))
    lines.append(ctx.t("imports.customer", name=esc(customer.name)) if customer else ctx.t("imports.no_customer"))
    rows: list[tuple[Button, ...]] = []
    proposals = interaction.details.get("proposals") or []
    accepted = set(interaction.details.get("accepted") or [])
    if proposals:
        lines.append(ctx.t("imports.proposals", n=len(proposals)))
    for index, proposal in enumerate(proposals):
        due = when(datetime.fromisoformat(proposal["due"]), tz=ctx.tz, language=ctx.language, now=ctx.now)
        mark = "✅" if index in accepted else "•"
        lines.append(f"{mark} {due} — {esc(proposal['action'])} <i>«{esc(proposal['quote'][:60])}»</i>")
        if index not in accepted:
            rows.append((Button(f"➕ {due} {proposal['action']}"[:60], f"im:fu:{iid}:{index}"),))
    if not info.get("me"):
        people = interaction.details.get("participants") or []
        if 2 <= len(people) <= 8:
            lines.append(ctx.t("imports.which_is_you"))
            rows += [tuple(Button(f"🙋 {name[:24]}", f"im:me:{iid}:{i}") for i, name in enumerate(people[j:j + 2], j))
                     for j in range(0, len(people), 2)]
    rows.append((Button(ctx.t("notes.btn_customer"), f"n:cc:{iid}"), Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}")))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


def _range(ctx: Ctx, interaction: Interaction) -> tuple[str | None, str | None]:
    first, last = ctx.uow.session.exec(select(func.min(ConversationMessage.sent_at), func.max(ConversationMessage.sent_at))
                                   .where(ConversationMessage.interaction_id == interaction.id)).one()
    if first is None:
        return None, None
    return (f"{first.astimezone(ctx.actor.zone):%Y-%m-%d}", f"{last.astimezone(ctx.actor.zone):%Y-%m-%d}")


# -- buttons --------------------------------------------------------------------------------------------
@button("im")
async def import_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 3:
        return [Reply(ctx.t("core.stale_button"))]
    verb = parts[0]
    if verb == "do":
        return await _date_order_chosen(ctx, parts[1], parts[2])
    if not parts[1].isdigit() or not parts[2].isdigit():
        return [Reply(ctx.t("core.stale_button"))]
    interaction = interactions.get_own(ctx.uow.session, ctx.actor, int(parts[1]))
    if interaction.deleted_at is not None:
        return [Reply(ctx.t("notes.undone"), edit=True)]
    index = int(parts[2])
    if verb == "fu":
        return [_accept_proposal(ctx, interaction, index)]
    if verb == "me":
        people = interaction.details.get("participants") or []
        if index >= len(people):
            return [Reply(ctx.t("core.stale_button"))]
        chat_import.set_member_side(ctx.uow.session, ctx.actor, interaction.id or 0, people[index])
        return [summary(ctx, interaction, edit=True)]
    return [Reply(ctx.t("core.stale_button"))]


def _accept_proposal(ctx: Ctx, interaction: Interaction, index: int) -> Reply:
    proposals = interaction.details.get("proposals") or []
    accepted = list(interaction.details.get("accepted") or [])
    if index >= len(proposals):
        return Reply(ctx.t("core.stale_button"))
    if index not in accepted:  # pressed twice: scheduled once
        proposal = proposals[index]
        followups.schedule(ctx.uow.session, ctx.actor, due_at=datetime.fromisoformat(proposal["due"]),
                           action=proposal["action"], customer_id=interaction.customer_id,
                           source_interaction_id=interaction.id)
        interaction.details = {**interaction.details, "accepted": [*accepted, index]}
        ctx.uow.session.add(interaction)
        ctx.uow.publish(FollowUpsChanged())
    return summary(ctx, interaction, edit=True)


# -- day/month order ------------------------------------------------------------------------------------
def _spool(ctx: Ctx) -> Path:
    path = Path(ctx.settings.import_spool_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ask_date_order(ctx: Ctx, data: bytes, file_name: str | None) -> Reply:
    token = secrets.token_hex(6)
    base = _spool(ctx) / f"{ctx.actor.member_id}-{token}"
    base.with_suffix(".bin").write_bytes(data)
    base.with_suffix(".json").write_text(json.dumps({"file_name": file_name}), encoding="utf-8")
    return Reply(ctx.t("imports.ask_date_order"),
                 buttons=((Button(ctx.t("imports.btn_dmy"), f"im:do:{token}:dmy"),
                           Button(ctx.t("imports.btn_mdy"), f"im:do:{token}:mdy")),))


async def _date_order_chosen(ctx: Ctx, token: str, order: str) -> list[Reply]:
    if order not in ("dmy", "mdy") or not token.isalnum():
        return [Reply(ctx.t("core.stale_button"))]
    base = _spool(ctx) / f"{ctx.actor.member_id}-{token}"
    try:
        data = base.with_suffix(".bin").read_bytes()
        meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [Reply(ctx.t("imports.expired"), edit=True)]
    replies = await import_chat_file(ctx, data, meta.get("file_name"), date_order=order)
    _discard(base)  # the import is in this unit of work; the spooled copy is no longer needed
    return replies or [Reply(ctx.t("files.unreadable", name=esc(meta.get("file_name") or "")))]


def _discard(base: Path) -> None:
    for suffix in (".bin", ".json"):
        base.with_suffix(suffix).unlink(missing_ok=True)
