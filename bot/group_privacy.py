"""Nothing private said in a shared place: what a member asks in a group goes to their private chat.

A command marked `private` in `bot.commands.TABLE`, any note or file logged in a group (a mention or a
reply to the bot) and any refusal are answered with `Reply.private` (the adapter sends them to the
member's private chat with the bot) and one short pointer in the group. When the member never opened a
private chat (Telegram answers 403), the adapter sends the pointer's `private_unreachable` text instead:
a deep link that opens one. A button on a message in a group works only for the member it was for;
anyone else gets a toast (a callback answer), never a group message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import commands
from bot.context import Ctx
from bot.render import esc
from core.chat import ButtonIn, ChatRef, CommandIn, Reply
from core.usecases.team import person_name


def start_link(ctx: Ctx, payload: str = "") -> str | None:
    """The link that opens a private chat with the bot on the reader's platform (None where there is none)."""
    messenger = ctx.deps.messenger(ctx.incoming.env.chat.platform)
    make = getattr(messenger, "start_link", None)
    return make(payload) if callable(make) else None


def own_chat(ctx: Ctx) -> ChatRef:
    """Where a handler's own progress messages go (`Transcribing…`, `Importing 5,000 messages…`): the chat of
    the update, or the member's private chat when it came from a group (a user id is their private chat on
    Telegram, and Slack's chat.postMessage opens the DM for a user id)."""
    env = ctx.incoming.env
    if env.is_group and not stays_in_group(ctx):
        return ChatRef(env.chat.platform, env.sender.platform_user_id)
    return env.chat


def stays_in_group(ctx: Ctx) -> bool:
    """Replies that may be posted where the update came from: outside groups, and public answers (help)."""
    incoming = ctx.incoming
    if not incoming.env.is_group or isinstance(incoming, ButtonIn):
        return True
    if isinstance(incoming, CommandIn):
        spec = commands.resolve(incoming.command)
        return spec is not None and not spec.private
    return False


def not_for_you(ctx: Ctx) -> list[Reply] | None:
    """A button pressed in a group by someone the message was not for: a toast, and nothing changes."""
    incoming = ctx.incoming
    if not isinstance(incoming, ButtonIn) or not incoming.env.is_group:
        return None
    if incoming.addressee == incoming.env.sender.platform_user_id:
        return None
    return [Reply("", notice=ctx.t("groups.only_author"))]


def refusal(ctx: Ctx, text: str) -> list[Reply]:
    """A refusal: a toast for a button, the member's private chat from a group, else a plain reply."""
    if isinstance(ctx.incoming, ButtonIn):
        return [Reply(text, notice=text)] if not ctx.incoming.env.is_group else [Reply("", notice=text)]
    return route(ctx, [Reply(text)], always=True)


def route(ctx: Ctx, replies: Sequence[Reply], *, always: bool = False) -> list[Reply]:
    """The replies to one update, sent privately (with a pointer in the group) when they may not stay there."""
    replies = list(replies)
    if not replies or not ctx.incoming.env.is_group:
        return replies
    if isinstance(ctx.incoming, ButtonIn):  # the card's own member: edits stay in place, new messages go privately
        return [reply if reply.edit or not (reply.text or reply.image or reply.file) else replace(reply, private=True)
                for reply in replies]
    if not always and ctx.member is not None and stays_in_group(ctx):
        return replies
    name = esc(person_name(ctx.incoming.env.sender.display_name))  # 林志明, not Telegram's "志明 林"
    link = start_link(ctx)
    pointer = Reply(ctx.t("groups.sent_privately", name=name),
                    private_unreachable=ctx.t("groups.open_private", name=name, link=link) if link else None)
    return [replace(reply, private=True, edit=False) for reply in replies] + [pointer]
