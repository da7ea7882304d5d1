"""Forwarded messages in chat: each one joins the chat's burst (`core.usecases.forwards`); the summary comes later."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Ctx
from bot.forward_summaries import summary_reply
from core.chat import ForwardOrigin, Reply, TextIn
from core.usecases.forwards import ForwardedMessage, ForwardResult, append_forward


def forward_of(ctx: Ctx, text: str) -> ForwardedMessage:
    """The incoming forwarded message as the use case takes it (the sender a platform hides named in the
    member's language)."""
    env = ctx.incoming.env
    return ForwardedMessage(env.chat, env.message_id, env.forwarded or ForwardOrigin("user"), env.sent_at, text,
                            unknown_sender=ctx.t("forwards.unknown_sender"))


def burst_window(ctx: Ctx) -> timedelta:
    return timedelta(seconds=ctx.settings.forward_batch_seconds)


def forwarded_text(ctx: Ctx) -> list[Reply]:
    """Store a forwarded text at once; nothing is answered until the burst's summary."""
    assert isinstance(ctx.incoming, TextIn)
    return ended_burst(ctx, append_forward(ctx.uow, ctx.actor, ctx.now, forward_of(ctx, ctx.incoming.text),
                                           window=burst_window(ctx)))


def ended_burst(ctx: Ctx, joined: ForwardResult) -> list[Reply]:
    """The summary of the chat's previous burst when this message found it over but not yet summarised; else
    nothing (this message's own burst is summarised when it ends)."""
    return [summary_reply(ctx, joined.ended)] if joined.ended is not None else []
