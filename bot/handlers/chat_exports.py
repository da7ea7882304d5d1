"""Chat exports shared with the bot: the import summary, its `im:` buttons and the questions the file leaves open.

The flow is `core.usecases.chat_imports` (the same one `chatcrm import-chat` runs). Here: parse and store off the
event loop (a worker thread: the update's unit of work is used by that thread alone while the loop answers other
chats and sends nudges; the rows go in chunks of `core.services.chat_import.CHUNK`, all in the update's one
transaction), announce a long import, and render. Which customer is asked with the note flow's `n:` buttons; which participant
is the member with `im:me`; the day/month order with `im:do`, and which chat of a Telegram account export
(or all of them) with `im:tc`, while the file waits in the spool.

An answer that fails after the import was stored says so (the import stays), never "nothing was saved".
"""

from __future__ import annotations

import asyncio
import logging

from bot.context import Ctx
from bot.group_privacy import own_chat
from bot.note_cards import ask_customer
from bot.render import esc, when
from bot.router import button
from core.chat import Button, Reply
from core.exports import ParsedConversation
from core.exports.model import MAX_MESSAGES, MAX_UNPACKED_FILE_BYTES, MAX_UNPACKED_TOTAL_BYTES
from core.services.errors import ServiceError
from core.usecases import chat_import_spool as spool
from core.usecases import chat_imports
from core.usecases.chat_imports import ChatChoice, ImportView, Unreadable
from core.usecases.notes import note_view

log = logging.getLogger(__name__)
PROGRESS_AT = 5_000  # messages; larger imports announce themselves before the work starts
CHAT_BUTTONS = 10  # chats of an account export offered as buttons (the largest); "All chats" takes every one
ALL_CHATS = "all"
CHAT_ICONS = {"personal_chat": "👤", "bot_chat": "🤖", "saved_messages": "🔖", "public_channel": "📢",
              "private_channel": "📢"}


async def import_chat_file(ctx: Ctx, data: bytes, file_name: str | None) -> list[Reply] | None:
    """Import a chat export; None when `data` is not one at all (the caller declines the file).

    A broken export (a truncated zip, invalid JSON, no messages) gets a reply saying what was expected."""
    parsed = await asyncio.to_thread(chat_imports.read_export, data, zone=ctx.actor.zone, file_name=file_name)
    if isinstance(parsed, ChatChoice):
        return [_ask_chat(ctx, spool.park(ctx.settings.import_spool_dir, ctx.actor, data, file_name), parsed)]
    if isinstance(parsed, Unreadable):
        if parsed.needs_date_order:
            return [_ask_date_order(ctx, spool.park(ctx.settings.import_spool_dir, ctx.actor, data, file_name))]
        return None if parsed.not_an_export else [_unreadable(ctx, parsed)]
    await _announce(ctx, parsed)
    view = await asyncio.to_thread(chat_imports.import_conversation, ctx.uow, ctx.actor, ctx.now, parsed,
                                   also_known_as=_sender_names(ctx))
    return _imported(ctx, view)


def _sender_names(ctx: Ctx) -> tuple[str, ...]:
    sender = ctx.incoming.env.sender
    return tuple(n for n in (sender.display_name, sender.username) if n)


async def _announce(ctx: Ctx, *conversations: ParsedConversation) -> None:
    count = sum(len(conversation.messages) for conversation in conversations)
    messenger = ctx.deps.messenger(ctx.incoming.env.chat.platform)
    if count < PROGRESS_AT or messenger is None:
        return
    try:
        await messenger.send(own_chat(ctx), Reply(ctx.t("imports.working", n=f"{count:,}")))
    except Exception:  # only the progress line is lost
        log.warning("could not send import progress", exc_info=True)


def _unreadable(ctx: Ctx, unreadable: Unreadable) -> Reply:
    limits = {"mb": MAX_UNPACKED_FILE_BYTES // 2**20, "total": MAX_UNPACKED_TOTAL_BYTES // 2**20,
              "n": f"{MAX_MESSAGES:,}"}
    return Reply(ctx.t(f"imports.error_{unreadable.code}", **limits))


def _imported(ctx: Ctx, view: ImportView) -> list[Reply]:
    if view.interaction_id is None:
        return [Reply(ctx.t("imports.nothing_new", n=view.duplicates))]
    replies = [summary(ctx, view)]
    if view.asks_customer:
        replies.append(ask_customer(ctx, note_view(ctx.uow, ctx.actor, view.interaction_id or 0)))
    return replies


FORMAT_NAMES = ("whatsapp", "telegram", "slack", "wechat_txt", "wechat_csv", "pywxdump_csv")


def format_name(ctx: Ctx, key: str) -> str:
    """An export format as the member's language names it (WhatsApp, 微信文字檔…)."""
    name = key.replace("-", "_")
    return ctx.t(f"imports.format_{name}") if name in FORMAT_NAMES else esc(key)


def summary(ctx: Ctx, view: ImportView, *, edit: bool = False) -> Reply:
    """Messages, date range, customer and proposed follow-ups, with buttons to accept them."""
    iid = view.interaction_id
    lines = [ctx.t("imports.done", n=f"{view.messages:,}", format=format_name(ctx, view.format))]
    if view.first and view.last:
        zone = ctx.actor.zone
        lines.append(ctx.t("imports.range", first=f"{view.first.astimezone(zone):%Y-%m-%d}",
                           last=f"{view.last.astimezone(zone):%Y-%m-%d}"))
    lines.append(ctx.t("imports.customer", name=esc(view.customer.name)) if view.customer
                 else ctx.t("imports.no_customer"))
    rows: list[tuple[Button, ...]] = []
    if view.proposals:
        lines.append(ctx.t("imports.proposals", n=len(view.proposals)))
    for proposal in view.proposals:
        due = when(proposal.due, tz=ctx.tz, language=ctx.language, now=ctx.now)
        mark = "✅" if proposal.accepted else "•"
        lines.append(f"{mark} {due} — {esc(proposal.action)} <i>«{esc(proposal.quote[:60])}»</i>")
        if not proposal.accepted:
            rows.append((Button(f"➕ {due} {proposal.action}"[:60], f"im:fu:{iid}:{proposal.index}"),))
    if view.asks_which_is_you:
        people = view.participants
        lines.append(ctx.t("imports.which_is_you"))
        rows += [tuple(Button(f"🙋 {name[:24]}", f"im:me:{iid}:{i}") for i, name in enumerate(people[j:j + 2], j))
                 for j in range(0, len(people), 2)]
    rows.append((Button(ctx.t("notes.btn_customer"), f"n:cc:{iid}"), Button(ctx.t("notes.btn_undo"), f"n:ud:{iid}")))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


# -- buttons --------------------------------------------------------------------------------------------
@button("im")
async def import_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 3:
        return [Reply(ctx.t("core.stale_button"))]
    verb = parts[0]
    if verb == "do":
        return await _date_order_chosen(ctx, parts[1], parts[2])
    if verb == "tc":
        return await _chat_chosen(ctx, parts[1], parts[2])
    if verb not in ("fu", "me") or not parts[1].isdigit() or not parts[2].isdigit():
        return [Reply(ctx.t("core.stale_button"))]
    answer = chat_imports.accept_proposal if verb == "fu" else chat_imports.set_member_side
    iid = int(parts[1])
    try:
        view = answer(ctx.uow, ctx.actor, iid, int(parts[2]))
    except ServiceError:
        raise
    except Exception:  # the import itself was stored by an earlier update: say so, not "nothing was saved"
        log.exception("import answer %s failed on record %s", verb, iid)
        ctx.uow.rollback()
        return [_answer_failed(ctx, iid)]
    if view is None:
        return [Reply(ctx.t("core.stale_button"))]
    if view.undone:
        return [Reply(ctx.t("notes.undone"), edit=True)]
    return [summary(ctx, view, edit=True)]


# -- day/month order ------------------------------------------------------------------------------------
def _ask_date_order(ctx: Ctx, token: str) -> Reply:
    return Reply(ctx.t("imports.ask_date_order"),
                 buttons=((Button(ctx.t("imports.btn_dmy"), f"im:do:{token}:dmy"),
                           Button(ctx.t("imports.btn_mdy"), f"im:do:{token}:mdy")),))


async def _date_order_chosen(ctx: Ctx, token: str, answer: str) -> list[Reply]:
    order = spool.date_order(answer)
    if order is None or not token.isalnum():
        return [Reply(ctx.t("core.stale_button"))]
    spooled = spool.take(ctx.settings.import_spool_dir, ctx.actor, token)
    if spooled is None:
        return [Reply(ctx.t("imports.expired"), edit=True)]
    parsed = await asyncio.to_thread(chat_imports.read_export, spooled.data, zone=ctx.actor.zone,
                                     file_name=spooled.file_name, date_order=order)
    if isinstance(parsed, ChatChoice):
        return [_ask_chat(ctx, spooled.token, parsed)]
    if isinstance(parsed, ParsedConversation):
        await _announce(ctx, parsed)
    outcome = await asyncio.to_thread(spool.resume, ctx.uow, ctx.actor, ctx.now, spooled, parsed,
                                    also_known_as=_sender_names(ctx))
    if isinstance(outcome, Unreadable):
        if outcome.not_an_export:
            return [Reply(ctx.t("files.unreadable", name=esc(spooled.file_name or "")))]
        return [_unreadable(ctx, outcome)]
    return _imported(ctx, outcome)


def _answer_failed(ctx: Ctx, interaction_id: int) -> Reply:
    try:
        stored = chat_imports.import_view(ctx.uow, ctx.actor, interaction_id).messages
    except Exception:
        log.warning("could not count the stored import %s", interaction_id, exc_info=True)
        return Reply(ctx.t("exports.answer_failed_kept"))
    return Reply(ctx.t("exports.answer_failed", n=stored))


# -- which chat of an account export ---------------------------------------------------------------------
def _ask_chat(ctx: Ctx, token: str, choice: ChatChoice) -> Reply:
    shown = sorted(choice.chats, key=lambda chat: -chat.messages)[:CHAT_BUTTONS]
    lines = [ctx.t("exports.choose_chat", n=len(choice.chats))]
    if len(choice.chats) > len(shown):
        lines.append(ctx.t("exports.more_chats", n=len(choice.chats) - len(shown)))
    rows = [(Button(f"{CHAT_ICONS.get(chat.kind, '👥')} {chat.name[:40]} · {chat.messages:,}",
                    f"im:tc:{token}:{chat.index}"),) for chat in shown]
    rows.append((Button(ctx.t("exports.btn_all_chats", n=len(choice.chats)), f"im:tc:{token}:{ALL_CHATS}"),))
    return Reply("\n".join(lines), buttons=tuple(rows))


async def _chat_chosen(ctx: Ctx, token: str, answer: str) -> list[Reply]:
    if not token.isalnum() or not (answer.isdigit() or answer == ALL_CHATS):
        return [Reply(ctx.t("core.stale_button"))]
    spooled = spool.take(ctx.settings.import_spool_dir, ctx.actor, token)
    if spooled is None:
        return [Reply(ctx.t("imports.expired"), edit=True)]
    zone, name = ctx.actor.zone, spooled.file_name
    if answer != ALL_CHATS:
        parsed = await asyncio.to_thread(chat_imports.read_export, spooled.data, zone=zone, file_name=name,
                                         chat=int(answer))
        if isinstance(parsed, ChatChoice):  # cannot happen with a chat picked; keep the file for another try
            return [_ask_chat(ctx, token, parsed)]
        if isinstance(parsed, ParsedConversation):
            await _announce(ctx, parsed)
        outcome = await asyncio.to_thread(spool.resume, ctx.uow, ctx.actor, ctx.now, spooled, parsed,
                                    also_known_as=_sender_names(ctx))
        return [_unreadable(ctx, outcome)] if isinstance(outcome, Unreadable) else _imported(ctx, outcome)
    every = await asyncio.to_thread(chat_imports.read_every_chat, spooled.data, zone=zone, file_name=name)
    if not isinstance(every, Unreadable):
        await _announce(ctx, *every)
    views = await asyncio.to_thread(spool.resume_all, ctx.uow, ctx.actor, ctx.now, spooled, every,
                                    also_known_as=_sender_names(ctx))
    if isinstance(views, Unreadable) or isinstance(every, Unreadable):
        return [_unreadable(ctx, views if isinstance(views, Unreadable) else Unreadable("no_messages"))]
    header = [ctx.t("exports.imported_chats", n=len(views)),
              *(ctx.t("exports.chat_line", name=esc(_chat_name(c))) for c in every)]
    return [Reply("\n".join(header)), *(reply for view in views for reply in _imported(ctx, view))]


def _chat_name(conversation: ParsedConversation) -> str:
    return conversation.title or ", ".join(conversation.participants[:2]) or conversation.format
