"""Forwarded messages in chat: each one joins the chat's burst (`core.usecases.forwards`); the summary comes later."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Ctx
from core.chat import ForwardOrigin, Reply, TextIn
from core.usecases.forwards import ForwardedMessage, ForwardResult, append_forward


def forwarded_message(ctx: Ctx, text: str, *, kind: str = "text", audio: dict | None = None) -> ForwardResult:
    env = ctx.incoming.env
    message = ForwardedMessage(env.chat, env.message_id, env.forwarded or ForwardOrigin("user"), env.sent_at, text,
                               kind=kind, unknown_sender=ctx.t("forwards.unknown_sender"), audio=audio)
    return append_forward(ctx.uow, ctx.actor, ctx.now, message,
                          window=timedelta(seconds=ctx.settings.forward_batch_seconds))


def forwarded_text(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    forwarded_message(ctx, ctx.incoming.text)
    return []
