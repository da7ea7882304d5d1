"""Chat exports shared with the bot (filled in when the export importers land)."""

from __future__ import annotations

from bot.context import Ctx
from core.chat import Reply


async def import_chat_file(ctx: Ctx, data: bytes, file_name: str | None) -> list[Reply] | None:
    """Import a chat export; None when `data` is not one."""
    return None
