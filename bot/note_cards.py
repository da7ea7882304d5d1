"""The note's confirmation card and the customer picker, drawn from `core.usecases.notes.NoteView`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import Ctx
from bot.deal_proposals import proposal_rows
from bot.render import amount_text, esc, when
from core.chat import Button, Reply
from core.usecases.notes import MAX_CHOICES, NoteResult, NoteStatus, NoteView
from core.usecases.views import CustomerRef

PREVIEW = 120


def note_replies(ctx: Ctx, result: NoteResult) -> list[Reply]:
    """What to answer after logging a note: the card, the question whom it is about, or what to log."""
    if result.status is NoteStatus.NOTHING or result.note is None:
        return [Reply(ctx.t("notes.what_to_log"))]
    return [card_for(ctx, result.note)]


def card_for(ctx: Ctx, note: NoteView, *, edit: bool = False) -> Reply:
    """The compact confirmation (customer · contact · what · next step and date, with fix/undo buttons);
    the customer picker while the note is unfiled."""
    if note.deleted:
        return Reply(ctx.t("notes.undone"), edit=edit)
    if note.customer is None and note.pool is not None:
        return pool_hold(ctx, note, note.pool, edit=edit)
    if note.customer is None:
        return ask_customer(ctx, note, edit=edit)
    parts = [f"<b>{esc(note.customer.name)}</b>"]
    if note.new_customer:
        parts[0] += " " + ctx.t("notes.new_badge")
    if note.contact:
        parts.append(esc(note.contact))
    parts.append(ctx.t(f"kinds.{note.kind}"))
    lines = [ctx.t("notes.logged", summary=" · ".join(parts))]
    if note.amounts:
        lines.append("📦 " + ", ".join(esc(amount_text(a, language=ctx.language)) for a in note.amounts))
    if note.transcript:
        lines.append("🎙 " + esc(note.transcript))
        if note.low_confidence:
            lines.append(ctx.t("notes.low_confidence"))
    if note.follow_up is not None:
        due = when(note.follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        action = note.follow_up.action or ctx.t("notes.follow_up")
        lines.append(ctx.t("notes.next_step", action=esc(action), due=due))
    rows: list[tuple[Button, ...]] = []
    if note.owner is not None:  # a colleague's customer the member does not see
        key = "customer_admin.access_asked" if note.access_requested else "customer_admin.owned_by"
        lines.append(ctx.t(key, customer=esc(note.customer.name), owner=esc(note.owner)))
        if not note.access_requested:
            rows.append((Button(ctx.t("customer_admin.btn_ask_access"), f"ac:req:{note.customer.id}"),))
    iid = note.id
    first = (Button(ctx.t("notes.btn_customer"), f"n:cc:{iid}"), Button(ctx.t("notes.btn_date"), f"n:cd:{iid}"))
    second = (Button(ctx.t("customer_admin.btn_edit"), f"n:ed:{iid}"),)
    second += (Button(ctx.t("notes.btn_no_follow_up"), f"n:nf:{iid}"),) if note.follow_up else ()
    second += (Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}"),)
    rows += proposal_rows(ctx, note)  # issue 15: the deal or stage move the note proposes (bot.deal_proposals)
    return Reply("\n".join(lines), buttons=(first, second, *rows), edit=edit)


def pool_hold(ctx: Ctx, note: NoteView, customer: CustomerRef, *, edit: bool = False) -> Reply:
    """A note about a customer of the team's pool (nobody owns it): kept unfiled; Claim files it there."""
    preview = note.text if len(note.text) <= PREVIEW else note.text[:PREVIEW - 3] + "…"
    claim = Button(ctx.t("pool.btn_claim_and_file", customer=customer.name[:30]), f"pl:claim:{customer.id}:{note.id}")
    rows = ((claim,), (Button(ctx.t("notes.btn_customer"), f"n:cc:{note.id}"),
                       Button(ctx.t("notes.btn_undo"), f"n:ud:{note.id}")))
    return Reply(ctx.t("pool.note_held", customer=esc(customer.name), preview=esc(preview)), buttons=rows, edit=edit)


def ask_customer(ctx: Ctx, note: NoteView, *, edit: bool = False,
                 candidates: Sequence[CustomerRef] | None = None) -> Reply:
    """Ask which customer a note is about: the candidates (default `note.candidates`), a new customer from
    the mention, or type it."""
    offered = list(note.candidates if candidates is None else candidates)[:MAX_CHOICES]
    iid = note.id
    rows: list[tuple[Button, ...]] = [(Button(label, f"n:sc:{iid}:{c.id}"),)
                                      for c, label in zip(offered, distinct_labels(offered), strict=True)]
    mention = note.mention
    if mention and not any(c.name == mention for c in offered):
        rows.append((Button(ctx.t("notes.btn_new_customer", name=mention[:30]), f"n:nc:{iid}"),))
    rows.append((Button(ctx.t("notes.btn_type_name"), f"n:tn:{iid}"), Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}")))
    preview = note.text if len(note.text) <= PREVIEW else note.text[:PREVIEW - 3] + "…"
    if note.same_as and mention and offered:  # a new name that reads like a known company: ask first
        names = ", ".join(c.name for c in offered)
        text = ctx.t("customer_admin.same_as", mention=esc(mention), customer=esc(names), preview=esc(preview))
    else:
        key = "notes.which_customer_ambiguous" if mention and offered else "notes.which_customer"
        text = ctx.t(key, mention=esc(mention or ""), preview=esc(preview))
    if note.low_confidence:
        text += "\n" + ctx.t("notes.low_confidence")
    return Reply(text, buttons=tuple(rows), edit=edit)


def distinct_labels(customers: Sequence[CustomerRef], width: int = 40) -> list[str]:
    """Button labels for customers, never two alike: a repeated name gets its number (`Acme · #7`)."""
    labels = [c.name[:width] for c in customers]
    return [f"{label} · #{c.id}" if labels.count(label) > 1 else label for c, label in zip(customers, labels,
                                                                                           strict=True)]


def due_stamp(note: NoteView) -> int:
    """The follow-up's due time when a date picker is drawn (0: none): a press after it moved is answered."""
    return int(note.follow_up.due_at.timestamp()) if note.follow_up is not None else 0


def date_picker(ctx: Ctx, note: NoteView) -> Reply:
    """The card with the choices for the follow-up's date: tomorrow, next week, type it, back."""
    iid, drawn = note.id, due_stamp(note)
    buttons = ((Button(ctx.t("notes.btn_tomorrow"), f"n:dt:{iid}:tm:{drawn}"),
                Button(ctx.t("notes.btn_next_week"), f"n:dt:{iid}:nw:{drawn}")),
               (Button(ctx.t("notes.btn_type_date"), f"n:td:{iid}"), Button(ctx.t("notes.btn_back"), f"n:bk:{iid}")))
    return Reply(card_for(ctx, note).text + "\n\n" + ctx.t("notes.pick_date"), buttons=buttons, edit=True)
