"""Documents: customer lists (CSV/XLSX) and chat exports go to the importers; anything else is declined."""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.imports import import_chat_file
from bot.render import esc
from bot.router import content
from core.chat import FileIn, Reply
from core.exports import looks_like_export
from core.services.customer_lists import import_customer_list, is_customer_list

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
    if attachment.size is not None and attachment.size > limit:
        return [Reply(ctx.t("files.too_big", mb=limit // (1024 * 1024)))]
    try:
        data = await download(ctx)
    except Exception:
        log.exception("download failed for %s", attachment.file_id)
        return [Reply(ctx.t("files.download_failed"))]
    if not data:
        return [Reply(ctx.t("files.empty"))]
    if len(data) > limit:
        return [Reply(ctx.t("files.too_big", mb=limit // (1024 * 1024)))]
    if not looks_like_export(data, attachment.file_name) and is_customer_list(data):
        result = import_customer_list(ctx.uow.session, ctx.actor, data)
        return [Reply(ctx.t("files.customers_imported", created=result.created, updated=result.updated,
                            skipped=result.skipped, names=esc(", ".join(result.names[:5]))))]
    replies = await import_chat_file(ctx, data, attachment.file_name)
    if replies is not None:
        return replies
    return [Reply(ctx.t("files.unreadable", name=esc(attachment.file_name or "")))]
