"""Edit or delete a logged note in chat, and the Cancel of every "type …" question.

- ✏️ on the note's card (`n:ed:<id>`, routed here by `bot.handlers.notes`) asks for the new text (an awaited
  answer with Cancel and 🗑 Delete); the answer edits the note (`core.usecases.note_edits`).
- An edited chat message (`core.chat.EditedIn`: Telegram `edited_message`, Slack `message_changed`) edits
  the note logged from it and answers with the updated card; an edit of a message that logged nothing is
  ignored. An edit that empties the message or makes it longer than the limit changes nothing and says so (with
  🗑 Delete for an emptied one).
- `n:dl:<id>` deletes the note (what undo does; a second press says so).
- `w:x:<kind>:<ref>` cancels the awaited answer `kind` (about `ref`) if it is still the one awaited; on a
  question already answered, cancelled or expired it says so and changes nothing.
"""

from __future__ import annotations

from bot.context import Ctx
from bot.note_cards import card_for
from bot.render import esc
from bot.router import button, content, state
from core.chat import Button, EditedIn, Reply, TextIn
from core.services.errors import NotFound
from core.usecases.note_edits import (
    MAX_NOTE_CHARS,
    delete_note,
    edit_from_source,
    edit_note,
    note_from_source,
)
from core.usecases.notes import NoteStatus, Source, note_view

NOTE_TEXT = "note_text"
PREVIEW = 300


def cancel_button(ctx: Ctx, kind: str, ref: object = "") -> Button:
    """The Cancel of the question `kind` (about `ref`, e.g. a note id) the bot now waits for."""
    return Button(ctx.t("note_edits.btn_cancel"), f"w:x:{kind}:{ref}")


def waiting_reply(ctx: Ctx, text: str, kind: str, ref: object = "",
                  more: tuple[Button, ...] = ()) -> Reply:
    """A question whose answer the bot waits for, with its Cancel button (and `more` beside it)."""
    return Reply(text, buttons=((cancel_button(ctx, kind, ref), *more),))


@button("w")
def cancel_waiting(ctx: Ctx, parts: list[str]) -> list[Reply]:
    kind = parts[1] if len(parts) > 1 else ""
    ref = parts[2] if len(parts) > 2 else ""
    awaited = ctx.awaited()
    if parts[:1] != ["x"] or awaited is None or awaited.kind != kind or _ref(awaited.payload) != ref:
        text = ctx.t("note_edits.question_closed")
        return [Reply(text, edit=True, notice=text)]
    ctx.stop_waiting()
    text = ctx.t("note_edits.cancelled")
    return [Reply(text, edit=True, notice=text)]


def _ref(payload: dict) -> str:
    value = payload.get("interaction")
    return "" if value is None else str(value)


def ask_new_text(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    """✏️ on the card: wait for the note's new text."""
    note = note_view(ctx.uow, ctx.actor, interaction_id)
    if note.deleted:
        return [Reply(ctx.t("notes.undone"), edit=True, notice=ctx.t("notes.undone"))]
    ctx.await_answer(NOTE_TEXT, {"interaction": interaction_id})
    current = note.text if len(note.text) <= PREVIEW else note.text[:PREVIEW - 1] + "…"
    delete = Button(ctx.t("note_edits.btn_delete"), f"n:dl:{interaction_id}")
    return [waiting_reply(ctx, ctx.t("note_edits.type_text", text=esc(current)), NOTE_TEXT, interaction_id,
                          more=(delete,))]


def delete(ctx: Ctx, interaction_id: int, _: list[str]) -> list[Reply]:
    """🗑 Delete: withdraw the note (idempotent)."""
    awaited = ctx.awaited(NOTE_TEXT)
    if awaited is not None and _ref(awaited.payload) == str(interaction_id):
        ctx.stop_waiting()
    result = delete_note(ctx.uow, ctx.actor, interaction_id)
    key = "note_edits.deleted" if result.status is NoteStatus.CHANGED else "note_edits.already_deleted"
    return [Reply(ctx.t(key), edit=True, notice=ctx.t(key))]


@state(NOTE_TEXT)
def typed_text(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    try:
        interaction_id = int(str(payload.get("interaction")))
    except ValueError as exc:
        raise NotFound("bad id") from exc
    result = edit_note(ctx.uow, ctx.actor, ctx.now, interaction_id, ctx.incoming.text)
    assert result.note is not None
    if result.note.deleted:
        return [Reply(ctx.t("note_edits.already_deleted"))]
    card = card_for(ctx, result.note)
    key = "note_edits.edited" if result.status is NoteStatus.CHANGED else "note_edits.unchanged"
    return [Reply(f"{ctx.t(key)}\n{card.text}", buttons=card.buttons)]


@content("edit")
def edited_message(ctx: Ctx) -> list[Reply]:
    """The member edited a message they had sent: edit the note it logged, if it logged one."""
    assert isinstance(ctx.incoming, EditedIn)
    text, source = ctx.incoming.text, Source.of(ctx.incoming.env)
    limit = min(ctx.settings.max_message_chars, MAX_NOTE_CHARS)
    if not text.strip() or len(text) > limit:
        return _edit_refused(ctx, source, text, limit)
    result = edit_from_source(ctx.uow, ctx.actor, ctx.now, source, text)
    if result is None or result.status is not NoteStatus.CHANGED or result.note is None:
        return []
    card = card_for(ctx, result.note)
    return [Reply(f"{ctx.t('note_edits.edited')}\n{card.text}", buttons=card.buttons)]


def _edit_refused(ctx: Ctx, source: Source, text: str, limit: int) -> list[Reply]:
    """An edit the note cannot take (emptied, or over the limit): the note stays as it was, and the member is told
    what to do instead. An edit of a message that logged nothing stays ignored."""
    note = note_from_source(ctx.uow, ctx.actor, source)
    if note is None or note.deleted:
        return []
    if text.strip():
        return [Reply(ctx.t("note_edits.edit_too_long", n=limit))]
    delete = Button(ctx.t("note_edits.btn_delete"), f"n:dl:{note.id}")
    return [Reply(ctx.t("note_edits.edit_emptied"), buttons=((delete,),))]
