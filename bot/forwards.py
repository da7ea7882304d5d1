"""Forwarded messages: a burst forwarded together becomes one conversation record on one customer.

Telegram delivers a multi-message forward as separate updates a second or two apart. Each message
is stored at once (nothing is lost); messages within `forward_batch_seconds` of the previous one
join the same record, and one summary is sent when the burst ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

from sqlmodel import select

from bot.context import Ctx
from core.chat import ChatRef, ForwardOrigin, Reply, TextIn
from core.db import session_scope
from core.models import ChatState, ConversationMessage, Interaction, InteractionKind
from core.services import customers as customer_service
from core.services import interactions
from core.services.actor import Actor
from core.services.interactions import Source
from core.text import search_form

BATCH_STATE = "forward_batch"
log = logging.getLogger(__name__)


def forwarded_text(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    append_forward(ctx, ctx.incoming.text, kind="text")
    return []


def append_forward(ctx: Ctx, text: str, *, kind: str, transcript: str | None = None,
                   audio: dict | None = None) -> Interaction:
    """Add one forwarded message to the open burst (or start one); returns the burst's interaction.

    `audio` (a forwarded voice note's hash, duration, language, engine) is kept per message in the
    interaction's details under "voice".
    """
    env = ctx.incoming.env
    origin = env.forwarded or ForwardOrigin("user")
    sent_at = origin.sent_at or env.sent_at
    sender = origin.name or ctx.t("forwards.unknown_sender")
    body = transcript if transcript is not None else text
    line = f"[{sent_at.astimezone(ctx.actor.zone):%Y-%m-%d %H:%M}] {sender}: {body}"
    interaction = _open_batch(ctx)
    if interaction is None:
        customer_id, contact_id = _customer_of(ctx, origin)
        interaction, _ = interactions.log_interaction(
            ctx.session, ctx.actor, text=line, kind=InteractionKind.forwarded.value, customer_id=customer_id,
            contact_id=contact_id, occurred_at=sent_at, details={"mention": origin.name, "forwarded": True},
            source=Source(env.chat.platform, env.chat.chat_id, env.message_id))
    else:
        interaction.text = f"{interaction.text}\n{line}"
        interaction.search_text = search_form(interaction.text)
    if audio is not None:
        voices = [*interaction.details.get("voice", []), {"message_id": env.message_id, **audio}]
        interaction.details = {**interaction.details, "voice": voices}
    ctx.session.add(interaction)
    dedup = hashlib.sha1(f"{env.chat}:{env.message_id}".encode()).hexdigest()
    ctx.session.add(ConversationMessage(team_id=ctx.actor.team_id, interaction_id=interaction.id or 0,
                                        customer_key=f"i{interaction.id}", sender=sender, from_member=False,
                                        sent_at=sent_at, kind=kind, text=body, dedup_key=dedup))
    _keep_batch_open(ctx, interaction)
    iid = interaction.id or 0
    ctx.after_commit.append(lambda: schedule_summary(ctx, iid))
    return interaction


def _open_batch(ctx: Ctx) -> Interaction | None:
    row = ctx.session.exec(select(ChatState).where(ChatState.member_id == ctx.actor.member_id,
                                                   ChatState.chat == str(ctx.incoming.env.chat),
                                                   ChatState.kind == BATCH_STATE)).first()
    if row is None or row.expires_at <= ctx.now:
        return None
    found = ctx.session.get(Interaction, row.payload.get("interaction"))
    return found if found is not None and found.deleted_at is None else None


def _keep_batch_open(ctx: Ctx, interaction: Interaction) -> None:
    window = timedelta(seconds=ctx.app.settings.forward_batch_seconds)
    row = ctx.session.exec(select(ChatState).where(ChatState.member_id == ctx.actor.member_id,
                                                   ChatState.chat == str(ctx.incoming.env.chat))).first()
    row = row or ChatState(team_id=ctx.actor.team_id, member_id=ctx.actor.member_id,
                           chat=str(ctx.incoming.env.chat), kind=BATCH_STATE, expires_at=ctx.now)
    row.kind, row.payload, row.expires_at = BATCH_STATE, {"interaction": interaction.id}, ctx.now + window
    ctx.session.add(row)


def _customer_of(ctx: Ctx, origin: ForwardOrigin) -> tuple[int | None, int | None]:
    """The customer whose contact matches the original sender, if exactly one does."""
    session, actor = ctx.session, ctx.actor
    if origin.platform_user_id:
        contact = customer_service.contact_by_handle(session, actor, ctx.incoming.env.chat.platform,
                                                     origin.platform_user_id)
        if contact is not None:
            return contact.customer_id, contact.id
    if origin.name:
        contacts = customer_service.contacts_named(session, actor, origin.name)
        if len({c.customer_id for c in contacts}) == 1:
            return contacts[0].customer_id, contacts[0].id
        resolution = customer_service.resolve_customer(session, actor, origin.name)
        if resolution.customer is not None:
            return resolution.customer.id, None
    return None, None


def schedule_summary(ctx: Ctx, interaction_id: int) -> None:
    """(Re)start the timer that sends one summary when the burst is over."""
    app, chat, actor = ctx.app, ctx.incoming.env.chat, ctx.actor
    key = f"forward:{chat}"
    pending = getattr(app, "_forward_timers", None)
    if pending is None:
        pending = app._forward_timers = {}
    if (old := pending.get(key)) is not None:
        old.cancel()
    delay = app.settings.forward_batch_seconds
    task = asyncio.get_running_loop().create_task(_send_summary(app, chat, actor, interaction_id, delay))
    pending[key] = task
    app.background.add(task)
    task.add_done_callback(app.background.discard)


async def _send_summary(app, chat: ChatRef, actor: Actor, interaction_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    from bot.bootstrap import reply_context
    from bot.notes import card

    messenger = app.messengers.get(chat.platform)
    if messenger is None:
        return
    with session_scope(app.engine) as session:
        ctx = reply_context(app, session, actor, chat)
        interaction = session.get(Interaction, interaction_id)
        if interaction is None:
            return
        count = len(session.exec(select(ConversationMessage.id)
                                 .where(ConversationMessage.interaction_id == interaction_id)).all())
        reply = card(ctx, interaction)
        header = ctx.t("forwards.saved", n=count)
    try:
        await messenger.send(chat, Reply(f"{header}\n{reply.text}", buttons=reply.buttons))
    except Exception:  # the record is saved; only the summary is lost
        log.exception("could not send the forward summary to %s", chat)

