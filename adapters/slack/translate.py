"""Slack events, slash commands, shortcuts and actions → `core.chat.Incoming`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.chat import (
    Attachment,
    ButtonIn,
    ChatRef,
    CommandIn,
    EditedIn,
    Envelope,
    FileIn,
    ForwardOrigin,
    Incoming,
    Sender,
    TextIn,
    VoiceIn,
)

PLATFORM = "slack"
IGNORED_SUBTYPES = {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave",
                    "message_replied", "thread_broadcast"}
VIEW_CONTAINERS = {"view", "ephemeral"}  # App Home / modal buttons, buttons on an ephemeral message: no message to edit


def when(ts: str | None) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts or 0), UTC)
    except ValueError:
        return datetime.now(UTC)


def attachment(file: dict[str, Any]) -> Attachment:
    return Attachment(PLATFORM, file.get("id", ""), file.get("name") or file.get("title"), file.get("mimetype"),
                      file.get("size"), url=file.get("url_private_download") or file.get("url_private"))


def is_audio(file: dict[str, Any]) -> bool:
    mime = (file.get("mimetype") or "").lower()
    return file.get("subtype") == "slack_audio" or mime.startswith(("audio/", "video/"))


def split_command(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head.lower(), rest.strip()


def is_direct_message(event: dict[str, Any]) -> bool:
    """A `message` event in the member's DM with the bot (`message.im`); channels, groups and MPIMs are not."""
    return event.get("channel_type") == "im"


def _content(env: Envelope, message: dict[str, Any]) -> Incoming:
    files = message.get("files") or []
    if files:
        file = files[0]
        if is_audio(file):
            return VoiceIn(env, attachment(file))
        return FileIn(env, attachment(file), caption=message.get("text") or "")
    return TextIn(env, message.get("text") or "")  # a bare command word is routed by the bot's one table


def from_message(event: dict[str, Any], team_id: str | None, sender: Sender, event_id: str | None) -> Incoming | None:
    """A DM to the bot: a note, a word command, or files (audio → VoiceIn)."""
    if event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES:
        return None
    chat = ChatRef(PLATFORM, event.get("channel", ""), event.get("thread_ts"))
    env = Envelope(chat, sender, event.get("ts", ""), when(event.get("ts")), update_id=event_id)
    return _content(env, event)


def edited_author(event: dict[str, Any]) -> str | None:
    """Who edited their own message in a `message_changed` event (None: the bot's message, an unfurl, no change)."""
    message, previous = event.get("message") or {}, event.get("previous_message") or {}
    if message.get("bot_id") or message.get("subtype") or not message.get("user") or not message.get("ts"):
        return None
    if "text" in previous and message.get("text") == previous.get("text"):
        return None  # a link preview or an attachment changed, not the words
    return str(message["user"])


def from_edit(event: dict[str, Any], sender: Sender, event_id: str | None) -> EditedIn:
    """`message_changed`: the member's message `message.ts` (the ORIGINAL ts) now reads `message.text`."""
    message = event.get("message") or {}
    edited = message.get("edited") or {}
    chat = ChatRef(PLATFORM, event.get("channel", ""), message.get("thread_ts"))
    env = Envelope(chat, sender, str(message.get("ts", "")), when(edited.get("ts") or event.get("ts")),
                   update_id=event_id)
    return EditedIn(env, message.get("text") or "")


def from_slash(body: dict[str, Any], sender: Sender, dm_channel: str | None) -> CommandIn:
    """`/crm <word> <args>`, handled as if typed in the member's DM (its state and idempotency live there)."""
    word, rest = split_command(body.get("text") or "")
    chat = ChatRef(PLATFORM, dm_channel or body.get("channel_id", ""))
    trigger = body.get("trigger_id") or f"{body.get('user_id')}:{datetime.now(UTC).timestamp()}"
    return CommandIn(Envelope(chat, sender, "", datetime.now(UTC), update_id=f"cmd:{trigger}"),
                     word or "help", rest)


def from_shortcut(body: dict[str, Any], sender: Sender, dm_channel: str, author_name: str | None) -> Incoming:
    """'Log to CRM' on a message: the message (its words, or its file or audio clip), as forwarded by the
    member, answered in their DM."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    origin = ForwardOrigin("slack_message", author_name or message.get("user"), message.get("user"),
                           when(message.get("ts")))
    # when the member chose it (Slack's action_ts), not when a worker gets to it: forwards form bursts by that time
    chosen = when(body["action_ts"]) if body.get("action_ts") else datetime.now(UTC)
    env = Envelope(ChatRef(PLATFORM, dm_channel), sender, f"{channel}:{message.get('ts', '')}", chosen,
                   forwarded=origin)
    return _content(env, message)


def from_action(body: dict[str, Any], action: dict[str, Any], sender: Sender, dm_channel: str | None) -> ButtonIn:
    """A button press. Pressed on a message: that message (answers may edit it). Pressed on App Home or an
    ephemeral message (`dm_channel` given): answered in the member's DM, with no message to edit."""
    container = body.get("container") or {}
    if dm_channel is not None:
        env = Envelope(ChatRef(PLATFORM, dm_channel), sender, "", datetime.now(UTC))
    else:
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts", "")
        env = Envelope(ChatRef(PLATFORM, channel), sender, message_ts, datetime.now(UTC))
    return ButtonIn(env, action.get("value") or "", callback_id=f"{body.get('trigger_id')}:{action.get('action_ts')}")


def pressed_outside_a_message(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") in VIEW_CONTAINERS or body.get("type") == "view_submission"


def pressed_on_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"
