"""Typed notes, /log, /new, and the note card's buttons (change customer or date, no follow-up, undo, edit).

A customer picker is a question with an answer: its buttons carry the customer the note had when the picker
was drawn (`:<stamp>` after the id, 0 or absent: unfiled). A press on a picker whose note has been filed
elsewhere since (a second customer pressed after the first, an old picker) says where the note is and changes
nothing. "Type a name" waits with a Cancel button and refuses an answer that cannot be a name.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable

from bot import admin_phrases
from bot.context import Ctx
from bot.forwards import forwarded_text
from bot.handlers import note_edits
from bot.handlers.handover import handover_phrase
from bot.handlers.note_edits import waiting_reply
from bot.note_cards import ask_customer, card_for, date_picker, due_stamp, note_replies
from bot.render import esc
from bot.router import button, command, content, state
from core.chat import Button, CommandIn, Reply, TextIn
from core.services.errors import NotFound
from core.usecases.customers import new_customer as create_named_customer
from core.usecases.forwards import adopt_sender
from core.usecases.note_filing import (
    DueChoice,
    drop_follow_up,
    file_note,
    file_under_new_customer,
    file_under_typed_name,
    set_follow_up_due,
    undo_note,
)
from core.usecases.notes import NoteInput, NoteResult, NoteStatus, NoteView, Source, log_note, note_view
from core.usecases.typed_answers import name_problem

DUE_CHOICES = {"tm": DueChoice.TOMORROW, "nw": DueChoice.NEXT_WEEK}


@content("text")
def text_note(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    if ctx.incoming.env.forwarded is not None:
        return forwarded_text(ctx)
    if (handing := handover_phrase(ctx)) is not None:  # "把大同五金行轉給小红負責", "hand Acme over to Bob"
        return handing
    if (admin := admin_phrases.delete_customer(ctx)) is not None:  # "刪除「電子」這個客戶", "delete customer Acme"
        return admin
    return note_replies(ctx, log_note(ctx.uow, ctx.actor, ctx.now, NoteInput(ctx.incoming.text, Source.of(ctx.incoming.env))))


@command("log")
def log_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    if not ctx.incoming.args.strip():
        return [Reply(ctx.t("notes.what_to_log"))]
    return note_replies(ctx, log_note(ctx.uow, ctx.actor, ctx.now, NoteInput(ctx.incoming.args, Source.of(ctx.incoming.env))))


@command("new")
def new_customer(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return [Reply(ctx.t("customers.new_usage"))]
    made = create_named_customer(ctx.uow, ctx.actor, name)
    if made.owner is not None:  # a colleague's customer the member does not see: say whose, offer to ask
        text = ctx.t("customer_admin.colleagues_customer", customer=esc(made.customer.name), owner=esc(made.owner))
        return [Reply(text, buttons=((Button(ctx.t("customer_admin.btn_ask_access"), f"ac:req:{made.customer.id}"),),))]
    key = "customers.created" if made.created else "customers.exists"
    return [Reply(ctx.t(key, name=esc(made.customer.name)),
                  buttons=((Button(ctx.t("customers.btn_open"), f"c:open:{made.customer.id}"),),))]


def _id(raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError as exc:
        raise NotFound("bad id") from exc


@button("n")
def note_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 2:
        return [Reply(ctx.t("core.stale_button"))]
    verb, interaction_id = parts[0], _id(parts[1])
    handler = _VERBS.get(verb)
    if handler is None:
        return _stale(ctx, interaction_id)
    return handler(ctx, interaction_id, parts[2:])


def _undone(ctx: Ctx) -> list[Reply]:
    return [Reply(ctx.t("notes.undone"), edit=True, notice=ctx.t("notes.undone"))]


def _stale(ctx: Ctx, interaction_id: int) -> list[Reply]:
    """A button this card no longer has (or never had)."""
    return _undone(ctx) if _viewed(ctx, interaction_id).deleted else [Reply(ctx.t("core.stale_button"))]


def _shown(ctx: Ctx, note: NoteView | None) -> list[Reply]:
    """The card drawn again in place (a withdrawn note only says so)."""
    assert note is not None
    return _undone(ctx) if note.deleted else [card_for(ctx, note, edit=True)]


def _viewed(ctx: Ctx, interaction_id: int) -> NoteView:
    return note_view(ctx.uow, ctx.actor, interaction_id)


def _stamp(note: NoteView) -> int:
    return note.customer.id if note.customer is not None else 0


def _stamped(reply: Reply, note: NoteView) -> Reply:
    """The picker `reply` with the note's customer of now on its choices (see the module's docstring)."""
    marks = (f"n:sc:{note.id}:", f"n:nc:{note.id}", f"n:tn:{note.id}")
    rows = tuple(tuple(Button(b.label, f"{b.payload}:{_stamp(note)}") if b.payload.startswith(marks) else b
                       for b in row) for row in reply.buttons)
    return Reply(reply.text, buttons=rows, edit=reply.edit, notice=reply.notice)


def _answered(ctx: Ctx, note: NoteView, drawn: str | None) -> list[Reply] | None:
    """What a picker drawn for `drawn` answers once the note was filed elsewhere since; None: still open."""
    stamp = int(drawn) if drawn and drawn.isdigit() else 0
    if note.deleted:
        return _undone(ctx)
    if note.customer is None or note.customer.id == stamp:
        return None
    notice = ctx.t("note_edits.already_filed", customer=esc(note.customer.name))
    card = card_for(ctx, note, edit=True)
    return [Reply(f"{notice}\n{card.text}", buttons=card.buttons, edit=True, notice=_plain(notice))]


def _plain(text: str) -> str:
    """A toast shows plain text: no tags, no entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _filed(ctx: Ctx, result: NoteResult) -> list[Reply]:
    """The card after filing; a forwarded burst's sender becomes the customer's contact."""
    awaited = ctx.awaited("customer_name")
    if awaited is not None and result.note is not None and awaited.payload.get("interaction") == result.note.id:
        ctx.stop_waiting()  # the picker was answered with a button: the typed name is no longer awaited
    if result.status is NoteStatus.CHANGED and result.note is not None and not result.note.deleted:
        adopted = adopt_sender(ctx.uow, ctx.actor, result.note.id)
        if adopted is not None:
            return _shown(ctx, adopted)
    return _shown(ctx, result.note)


def _change_customer(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    note = _viewed(ctx, interaction_id)
    return _undone(ctx) if note.deleted else [_stamped(ask_customer(ctx, note, edit=True), note)]


def _set_customer(ctx: Ctx, interaction_id: int, args: list[str]) -> list[Reply]:
    if not args or not args[0].isdigit():
        return _stale(ctx, interaction_id)
    if (answered := _answered(ctx, _viewed(ctx, interaction_id), args[1] if len(args) > 1 else None)) is not None:
        return answered
    return _filed(ctx, file_note(ctx.uow, ctx.actor, interaction_id, int(args[0]), remember_mention=True))


def _new_customer(ctx: Ctx, interaction_id: int, args: list[str]) -> list[Reply]:
    if (answered := _answered(ctx, _viewed(ctx, interaction_id), args[0] if args else None)) is not None:
        return answered
    result = file_under_new_customer(ctx.uow, ctx.actor, interaction_id)
    if result.status is NoteStatus.NO_MENTION:
        return [Reply(ctx.t("core.stale_button"))]
    return _filed(ctx, result)


def _type_name(ctx: Ctx, interaction_id: int, args: list[str]) -> list[Reply]:
    note = _viewed(ctx, interaction_id)
    if (answered := _answered(ctx, note, args[0] if args else None)) is not None:
        return answered
    ctx.await_answer("customer_name", {"interaction": interaction_id, "drawn": _stamp(note)})
    return [waiting_reply(ctx, ctx.t("notes.type_customer"), "customer_name", interaction_id)]


def _change_date(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    note = _viewed(ctx, interaction_id)
    return _undone(ctx) if note.deleted else [date_picker(ctx, note)]


def _set_date(ctx: Ctx, interaction_id: int, args: list[str]) -> list[Reply]:
    choice = DUE_CHOICES.get(args[0] if args else "")
    if choice is None:
        return _stale(ctx, interaction_id)
    if len(args) > 1:  # drawn for a due time: once it moved (or went), this picker was answered
        note = _viewed(ctx, interaction_id)
        if note.deleted:
            return _undone(ctx)
        if not args[1].isdigit() or int(args[1]) != due_stamp(note):
            notice = ctx.t("note_edits.already_dated")
            card = card_for(ctx, note, edit=True)
            return [Reply(f"{notice}\n{card.text}", buttons=card.buttons, edit=True, notice=notice)]
    return _shown(ctx, set_follow_up_due(ctx.uow, ctx.actor, ctx.now, interaction_id, choice=choice).note)


def _type_date(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    if _viewed(ctx, interaction_id).deleted:
        return _undone(ctx)
    ctx.await_answer("note_date", {"interaction": interaction_id})
    return [waiting_reply(ctx, ctx.t("notes.type_date"), "note_date", interaction_id)]


def _no_follow_up(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    return _shown(ctx, drop_follow_up(ctx.uow, ctx.actor, interaction_id).note)


def _undo(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    result = undo_note(ctx.uow, ctx.actor, interaction_id)
    key = "notes.undone" if result.status is NoteStatus.CHANGED else "notes.already_undone"
    return [Reply(ctx.t(key), edit=True, notice=ctx.t(key))]


def _back(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    return _shown(ctx, _viewed(ctx, interaction_id))


_VERBS: dict[str, Callable[[Ctx, int, list[str]], list[Reply]]] = {
    "cc": _change_customer, "sc": _set_customer, "nc": _new_customer, "tn": _type_name, "cd": _change_date,
    "dt": _set_date, "td": _type_date, "nf": _no_follow_up, "ud": _undo, "bk": _back,
    "ed": note_edits.ask_new_text, "dl": note_edits.delete}


@state("customer_name")
def typed_customer(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    interaction_id = _id(payload.get("interaction"))
    problem = name_problem(ctx.incoming.text, now=ctx.now, tz=ctx.tz)
    if problem is not None:  # not a name (a whole note, a sentence): keep waiting, say why
        ctx.await_answer("customer_name", payload)
        return [waiting_reply(ctx, ctx.t(f"note_edits.not_a_name_{problem.value}"), "customer_name", interaction_id)]
    note = _viewed(ctx, interaction_id)
    drawn = payload.get("drawn")
    if (answered := _answered(ctx, note, None if drawn is None else str(drawn))) is not None:
        return [dataclasses.replace(answered[0], edit=False)]
    result = file_under_typed_name(ctx.uow, ctx.actor, interaction_id, ctx.incoming.text)
    if result.status is NoteStatus.AMBIGUOUS and result.note is not None:
        picker = ask_customer(ctx, result.note, candidates=result.note.candidates)
        return [_stamped(picker, result.note)]
    replies = _filed(ctx, result)
    return [dataclasses.replace(reply, edit=False) for reply in replies]


@state("note_date")
def typed_date(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    interaction_id = _id(payload.get("interaction"))
    result = set_follow_up_due(ctx.uow, ctx.actor, ctx.now, interaction_id, typed=ctx.incoming.text)
    if result.status is NoteStatus.BAD_DATE:
        ctx.await_answer("note_date", payload)
        return [waiting_reply(ctx, ctx.t("notes.bad_date"), "note_date", interaction_id)]
    return [_card(ctx, result)]


def _card(ctx: Ctx, result: NoteResult) -> Reply:
    assert result.note is not None
    return card_for(ctx, result.note)
