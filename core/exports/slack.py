"""Slack workspace exports: `users.json` and one folder per channel (DMs by id) of daily `YYYY-MM-DD.json`."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

from core.exports.model import (
    MAX_MESSAGES,
    ExportError,
    ParsedConversation,
    ParsedMessage,
    UnpackBudget,
    too_many_messages,
)

DAY_FILE = re.compile(r"^(?:.*/)?(?P<channel>[^/]+)/\d{4}-\d{2}-\d{2}\.json$")
MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|[^>]*)?>")
SYSTEM_SUBTYPES = {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
                   "channel_archive", "group_join", "group_leave", "pinned_item"}


def sniff(names: list[str]) -> bool:
    return any(DAY_FILE.match(n) for n in names) and any(n.rsplit("/", 1)[-1] == "users.json" for n in names)


def parse(archive: zipfile.ZipFile, budget: UnpackBudget | None = None) -> ParsedConversation:
    """Every day file of every channel as one conversation; `budget` bounds what the JSON files expand to."""
    budget = budget or UnpackBudget()
    names = archive.namelist()
    users_file = next(n for n in names if n.rsplit("/", 1)[-1] == "users.json")
    budget.check_declared(archive, [users_file, *(n for n in names if DAY_FILE.match(n))])
    users = _users(archive, users_file, budget)
    messages: list[tuple[float, ParsedMessage]] = []
    channels: list[str] = []
    for name in sorted(names):
        day = DAY_FILE.match(name)
        if not day:
            continue
        if day.group("channel") not in channels:
            channels.append(day.group("channel"))
        for raw in _load(archive, name, budget, counted=len(messages)) or []:
            if isinstance(raw, dict) and raw.get("ts"):
                message = _message(raw, users)
                if message is not None:
                    messages.append((float(raw["ts"]), message))
        if len(messages) > MAX_MESSAGES:
            raise too_many_messages()
    messages.sort(key=lambda pair: pair[0])
    return ParsedConversation("slack", ", ".join(channels) or None, [m for _, m in messages])


def _load(archive: zipfile.ZipFile, name: str, budget: UnpackBudget, *, counted: int | None = None) -> Any:
    """A JSON member; for a day file (`counted`: messages so far) its messages are counted in the raw bytes
    first (each has one `"ts"`, an edit one more), so an over-long export is refused before `json.loads`."""
    data = budget.read(archive, name)
    if counted is not None and counted + data.count(b'"ts"') - data.count(b'"edited"') > MAX_MESSAGES:
        raise too_many_messages()
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ExportError("invalid_json", f"{name} is not valid JSON: {error}") from error


def _users(archive: zipfile.ZipFile, name: str, budget: UnpackBudget) -> dict[str, str]:
    users = {}
    for user in _load(archive, name, budget) or []:
        if isinstance(user, dict) and user.get("id"):
            profile = user.get("profile") or {}
            users[user["id"]] = (profile.get("real_name") or user.get("real_name") or profile.get("display_name")
                                 or user.get("name") or user["id"])
    return users


def _message(raw: dict[str, Any], users: dict[str, str]) -> ParsedMessage | None:
    at = datetime.fromtimestamp(float(raw["ts"]), UTC)
    text = MENTION.sub(lambda m: "@" + users.get(m.group("id"), m.group("id")), raw.get("text") or "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    subtype = raw.get("subtype")
    if subtype in SYSTEM_SUBTYPES:
        return ParsedMessage(None, at, text, "system")
    if subtype == "bot_message" or (raw.get("bot_id") and not raw.get("user")):
        sender = raw.get("username") or (raw.get("bot_profile") or {}).get("name") or "bot"
    else:
        user = raw.get("user")
        sender = (users.get(user) if user else None) or (raw.get("user_profile") or {}).get("real_name") or user
    kind = "text"
    files = raw.get("files") or []
    if files:
        first = files[0] if isinstance(files[0], dict) else {}
        mime = str(first.get("mimetype") or "")
        kind = "voice" if mime.startswith("audio/") or first.get("subtype") == "slack_audio" else \
            "photo" if mime.startswith("image/") else "file"
        text = text or str(first.get("name") or first.get("title") or "")
    thread = raw.get("thread_ts")
    reply_to = thread if thread and thread != raw["ts"] else None
    return ParsedMessage(sender, at, text, kind, edited=bool(raw.get("edited")), reply_to=reply_to)
