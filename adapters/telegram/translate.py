"""Telegram `Update` → `core.chat.Incoming` (or None for what the bot must ignore)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath

from telegram import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.constants import ChatType, MessageEntityType

from adapters.telegram.vcard import parse_vcard
from core.chat import (
    Attachment,
    ButtonIn,
    ChatRef,
    CommandIn,
    ContactIn,
    EditedIn,
    Envelope,
    FileIn,
    ForwardOrigin,
    Incoming,
    Sender,
    TextIn,
    VoiceIn,
)

PLATFORM = "telegram"
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
AUDIO_SUFFIXES = frozenset({".ogg", ".oga", ".opus", ".m4a", ".mp3", ".wav", ".flac", ".aac"})


def is_audio_document(file_name: str | None, mime_type: str | None) -> bool:
    """A document that is a sound recording (`jfk.ogg`, `audio/mp4`): transcribed like a voice note."""
    if (mime_type or "").lower().startswith("audio/"):
        return True
    return PurePosixPath((file_name or "").lower()).suffix in AUDIO_SUFFIXES


def _sender(update: Update) -> Sender:
    user = update.effective_user
    if user is None:
        return Sender("0", "")
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Sender(str(user.id), name or user.username or str(user.id), user.username, user.language_code)


def _origin(message: Message) -> ForwardOrigin | None:
    origin = message.forward_origin
    if origin is None:
        return None
    sent_at = origin.date.astimezone(UTC) if origin.date else None
    if isinstance(origin, MessageOriginUser):
        person = origin.sender_user
        name = " ".join(part for part in (person.first_name, person.last_name) if part)
        return ForwardOrigin("user", name, str(person.id), sent_at)
    if isinstance(origin, MessageOriginHiddenUser):
        return ForwardOrigin("hidden_user", origin.sender_user_name, None, sent_at)
    if isinstance(origin, MessageOriginChat):
        name = origin.author_signature or origin.sender_chat.title
        return ForwardOrigin("chat", name, str(origin.sender_chat.id), sent_at)
    if isinstance(origin, MessageOriginChannel):
        return ForwardOrigin("channel", origin.author_signature or origin.chat.title, str(origin.chat.id), sent_at)
    return ForwardOrigin("user", None, None, sent_at)


def _addressed(message: Message, bot_username: str) -> tuple[bool, str]:
    """In a group: is the message for the bot (command, @mention, reply to it)? And its text without the mention."""
    text = message.text or message.caption or ""
    mention = f"@{bot_username}".lower()
    for entity in message.entities or message.caption_entities or ():
        piece = text[entity.offset:entity.offset + entity.length]
        if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
            command = piece.split("@", 1)
            if len(command) == 1 or command[1].lower() == bot_username.lower():
                return True, text
        if entity.type == MessageEntityType.MENTION and piece.lower() == mention:
            return True, (text[:entity.offset] + text[entity.offset + entity.length:]).strip()
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and (reply.from_user.username or "").lower() == bot_username.lower():
        return True, text
    return False, text


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    if update.callback_query is not None:
        return _button(update)
    if update.edited_message is not None:
        return _edited(update)
    message = update.message
    if message is None:
        return None  # channel posts and the like are not notes
    is_group = message.chat.type in GROUPS
    text = message.text or ""
    if is_group:
        addressed, text = _addressed(message, bot_username)
        if not addressed:
            return None
    thread = str(message.message_thread_id) if message.is_topic_message and message.message_thread_id else None
    env = Envelope(ChatRef(PLATFORM, str(message.chat.id), thread), _sender(update), str(message.message_id),
                   message.date.astimezone(UTC), forwarded=_origin(message), is_group=is_group,
                   update_id=str(update.update_id))
    if message.voice or message.audio or message.video_note:
        media = message.voice or message.audio or message.video_note
        name = getattr(media, "file_name", None) or ("voice.ogg" if message.voice else "audio")
        mime = getattr(media, "mime_type", None) or ("audio/ogg" if message.voice else "video/mp4")
        seconds = media.duration.total_seconds() if hasattr(media.duration, "total_seconds") else media.duration
        return VoiceIn(env, Attachment(PLATFORM, media.file_id, name, mime, media.file_size,
                                       float(seconds) if seconds is not None else None))
    if message.document and is_audio_document(message.document.file_name, message.document.mime_type):
        document = message.document
        return VoiceIn(env, Attachment(PLATFORM, document.file_id, document.file_name or "audio",
                                       document.mime_type or "application/octet-stream", document.file_size))
    if message.document:
        document = message.document
        return FileIn(env, Attachment(PLATFORM, document.file_id, document.file_name, document.mime_type,
                                      document.file_size), caption=(text if is_group else message.caption) or "")
    if message.photo:
        photo = message.photo[-1]
        return FileIn(env, Attachment(PLATFORM, photo.file_id, f"photo-{message.message_id}.jpg", "image/jpeg",
                                      photo.file_size), caption=(text if is_group else message.caption) or "")
    if message.contact:
        contact = message.contact
        name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
        card = parse_vcard(contact.vcard)
        numbers: dict[str, str] = {}
        for number in (contact.phone_number, *card.phones):
            if number:
                numbers.setdefault(_digits(number), number)  # the first way it is written
        phones = tuple(numbers.values())
        return ContactIn(env, name, contact.phone_number, str(contact.user_id) if contact.user_id else None,
                         company=card.company, title=card.title, email=card.email, phones=phones)
    if text.startswith("/") and not env.forwarded:
        head, _, args = text[1:].partition(" ")
        return CommandIn(env, head.split("@", 1)[0].lower(), args.strip())
    if message.text is not None or message.caption:
        return TextIn(env, text or message.caption or "")
    return None  # stickers, photos without caption, locations…: nothing to log


def _button(update: Update) -> ButtonIn:
    """A button press; in a group, `addressee` is the member the message was a reply to (its card's owner)."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None or not isinstance(message, Message):  # an inaccessible (old) message
        env = Envelope(ChatRef(PLATFORM, str(query.from_user.id)), _sender(update),
                       str(message.message_id) if message else "", _now(), update_id=str(update.update_id))
        return ButtonIn(env, query.data or "", callback_id=query.id)
    is_group = message.chat.type in GROUPS
    original = message.reply_to_message
    addressee = str(original.from_user.id) if original is not None and original.from_user else None
    env = Envelope(ChatRef(PLATFORM, str(message.chat.id)), _sender(update), str(message.message_id),
                   message.date.astimezone(UTC), is_group=is_group, update_id=str(update.update_id))
    return ButtonIn(env, query.data or "", callback_id=query.id, addressee=addressee)


def _edited(update: Update) -> EditedIn | None:
    """The member edited one of their own text messages in their private chat with the bot."""
    message = update.edited_message
    assert message is not None
    if message.chat.type != ChatType.PRIVATE or message.text is None or message.forward_origin is not None:
        return None
    if message.from_user is None or message.from_user.id != message.chat.id:
        return None
    env = Envelope(ChatRef(PLATFORM, str(message.chat.id)), _sender(update), str(message.message_id),
                   (message.edit_date or message.date).astimezone(UTC), update_id=str(update.update_id))
    return EditedIn(env, message.text)


def _digits(phone: str) -> str:
    """A number's digits (and a leading +): one number written two ways is one number."""
    return ("+" if phone.strip().startswith("+") else "") + "".join(ch for ch in phone if ch.isdigit())


def _now() -> datetime:
    return datetime.now(UTC)
