"""Documents and photos: customer lists (CSV/XLSX) and chat exports go to their importers; anything else with a
caption is attached to the customer the caption names (bot.handlers.attachments); the rest is declined."""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.customer_lists import list_replies
from bot.handlers.attachments import attach_captioned
from bot.handlers.chat_exports import import_chat_file
from bot.render import esc
from bot.router import content
from core.chat import FileIn, Reply

log = logging.getLogger(__name__)


async def download(ctx: Ctx) -> bytes | None:
    assert isinstance(ctx.incoming, FileIn)
    messenger = ctx.deps.messenger(ctx.incoming.env.chat.platform)
    if messenger is None:
        return None
    return await messenger.download(ctx.incoming.attachment)


@content("file")
async def document(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, FileIn)
    attachment = ctx.incoming.attachment
    limit = ctx.settings.max_import_bytes
    too_big = Reply(ctx.t("files.too_big", mb=limit // (1024 * 1024)))
    if attachment.size is not None and attachment.size > limit:
        return [too_big]
    try:
        data = await download(ctx)
    except Exception:
        log.exception("download failed for %s", attachment.file_id)
        return [Reply(ctx.t("files.download_failed"))]
    if not data:
        return [Reply(ctx.t("files.empty"))]
    if len(data) > limit:
        return [too_big]
    if (replies := list_replies(ctx, data, attachment.file_name)) is not None:
        return replies
    replies = await import_chat_file(ctx, data, attachment.file_name)
    if replies is not None:
        return replies
    if ctx.incoming.caption.strip():
        return attach_captioned(ctx, data)
    return [Reply(ctx.t("files.unreadable", name=esc(attachment.file_name or "")))]
