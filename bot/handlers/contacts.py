"""A shared phone contact becomes a contact of a customer (asking which one): `core.usecases.contacts`."""

from __future__ import annotations

from bot.context import Ctx
from bot.render import esc
from bot.router import button, content, state
from core.chat import Button, ContactIn, Reply, TextIn
from core.usecases import contacts
from core.usecases.contacts import ContactSaved, SharedContact
from core.usecases.views import CustomerRef

AWAITED = "contact_customer"


def _choices(customers: tuple[CustomerRef, ...]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(c.name[:40], f"k:{c.id}"),) for c in customers)


def _saved(ctx: Ctx, saved: ContactSaved, *, edit: bool) -> Reply:
    return Reply(ctx.t("contacts.saved", name=esc(saved.name), customer=esc(saved.customer.name)), edit=edit)


@content("contact")
def shared_contact(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, ContactIn)
    incoming = ctx.incoming
    received = contacts.receive_contact(ctx.uow, ctx.actor, name=incoming.name, phone=incoming.phone,
                                        platform=incoming.env.chat.platform,
                                        platform_user_id=incoming.platform_user_id)
    ctx.await_answer(AWAITED, received.contact.to_json())
    return [Reply(ctx.t("contacts.which_customer", name=esc(received.contact.name),
                        phone=esc(received.contact.phone or "")), buttons=_choices(received.choices))]


@button("k")
def contact_customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    pending = ctx.awaited()
    if pending is None or pending.kind != AWAITED or not parts or not parts[0].isdigit():
        return [Reply(ctx.t("core.stale_button"), edit=True)]
    ctx.stop_waiting()
    contact = SharedContact.from_json(pending.payload, ctx.incoming.env.chat.platform)
    return [_saved(ctx, contacts.save_contact(ctx.uow, ctx.actor, int(parts[0]), contact), edit=True)]


@state(AWAITED)
def typed_contact_customer(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    contact = SharedContact.from_json(payload, ctx.incoming.env.chat.platform)
    outcome = contacts.save_contact_to_named(ctx.uow, ctx.actor, ctx.incoming.text, contact)
    if isinstance(outcome, contacts.WhichCustomer):
        ctx.await_answer(AWAITED, payload)
        return [Reply(ctx.t("customers.which", name=esc(outcome.name)), buttons=_choices(outcome.candidates))]
    return [_saved(ctx, outcome, edit=False)]
