"""Files attached to customers: a captioned document or photo (from bot.handlers.files) and /files NAME."""

from __future__ import annotations

from bot.context import Ctx
from bot.render import esc
from bot.router import command
from core.chat import CommandIn, FileIn, OutFile, Reply
from core.usecases import attachments, customers
from core.usecases.attachments import AttachOutcome, Upload

SENT_BACK = 5  # files /files sends back at once (newest first)


def attach_captioned(ctx: Ctx, data: bytes) -> list[Reply]:
    """The file of a captioned upload attached to the customer the caption names."""
    incoming = ctx.incoming
    assert isinstance(incoming, FileIn)
    attachment, env = incoming.attachment, incoming.env
    caption = incoming.caption.strip()
    name = attachment.file_name or "file"
    upload = Upload(name, attachment.mime_type, data, env.chat.platform, env.chat.chat_id, env.message_id,
                    attachment.file_id)
    result = attachments.attach(ctx.uow, ctx.actor, ctx.now, caption, upload)
    match result.outcome:
        case AttachOutcome.AMBIGUOUS:
            names = "、".join(esc(c.name) for c in result.candidates[:6]) if ctx.language != "en" else \
                ", ".join(esc(c.name) for c in result.candidates[:6])
            return [Reply(ctx.t("attachments.ambiguous", caption=esc(caption), names=names))]
        case AttachOutcome.NO_CUSTOMER:
            return [Reply(ctx.t("attachments.no_customer", caption=esc(caption)))]
    assert result.customer is not None and result.file is not None
    key = "attachments.already" if result.outcome is AttachOutcome.ALREADY else "attachments.attached"
    return [Reply(ctx.t(key, file=esc(result.file.file_name), customer=esc(result.customer.name),
                        n=result.file_count))]


@command("files")
def files(ctx: Ctx) -> list[Reply]:
    """`/files Acme`: the customer's files sent back (the newest few) with the list of all."""
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return [Reply(ctx.t("attachments.usage"))]
    match = customers.find_customer(ctx.uow, ctx.actor, name)
    if match.customer is None:
        if len(match.candidates) > 1:
            names = ", ".join(esc(c.name) for c in match.candidates[:6])
            return [Reply(ctx.t("attachments.which_customer", caption=esc(name), names=names))]
        return [Reply(ctx.t("attachments.unknown_customer", caption=esc(name)))]
    customer = match.customer
    views = attachments.files_of(ctx.uow, ctx.actor, customer.id)
    if not views:
        return [Reply(ctx.t("attachments.none", customer=esc(customer.name)))]
    total = attachments.count_for(ctx.uow, ctx.actor, customer.id)
    lines = [ctx.t("attachments.list", customer=esc(customer.name), n=total)]
    lines += [f"• {esc(view.file_name)}" for view in views]
    replies = [Reply("\n".join(lines))]
    for view in views[:SENT_BACK]:
        stored = attachments.file_data(ctx.uow, ctx.actor, view.id)
        if stored is None or stored.data is None:
            replies.append(Reply(ctx.t("attachments.not_kept", file=esc(view.file_name))))
            continue
        replies.append(Reply(esc(view.file_name), file=OutFile(view.file_name, stored.data,
                                                              view.mime_type or "application/octet-stream")))
    return replies
