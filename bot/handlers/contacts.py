"""A shared phone contact becomes a contact of a customer (asking which one)."""

from __future__ import annotations

import phonenumbers

from bot.context import Ctx
from bot.render import esc
from bot.router import button, content, state
from core.chat import Button, ContactIn, Reply, TextIn
from core.services import customers as customer_service


def normalize_phone(raw: str | None, country: str) -> str | None:
    """E.164 when the number parses (`0912 345 678` in TW → +886912345678), else the digits as given."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, None if raw.strip().startswith("+") else country)
    except phonenumbers.NumberParseException:
        return raw.strip()
    if not phonenumbers.is_possible_number(number):
        return raw.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@content("contact")
def shared_contact(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, ContactIn)
    incoming = ctx.incoming
    phone = normalize_phone(incoming.phone, ctx.member.country if ctx.member else "TW")
    payload = {"name": incoming.name.strip() or (phone or "?"), "phone": phone,
               "user": incoming.platform_user_id}
    ctx.await_answer("contact_customer", payload)
    recent = customer_service.list_customers(ctx.uow.session, ctx.actor, limit=5)
    rows = tuple((Button(c.name[:40], f"k:{c.id}"),) for c in recent)
    return [Reply(ctx.t("contacts.which_customer", name=esc(payload["name"]), phone=esc(phone or "")),
                  buttons=rows)]


def _save(ctx: Ctx, customer_id: int, payload: dict) -> list[Reply]:
    handle = (ctx.incoming.env.chat.platform, payload["user"]) if payload.get("user") else None
    contact = customer_service.add_contact(ctx.uow.session, ctx.actor, customer_id, payload["name"],
                                           phone=payload.get("phone"), handle=handle)
    customer = customer_service.get_visible(ctx.uow.session, ctx.actor, customer_id)
    return [Reply(ctx.t("contacts.saved", name=esc(contact.name), customer=esc(customer.name)), edit=True)]


@button("k")
def contact_customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    pending = ctx.awaited()
    if pending is None or pending.kind != "contact_customer" or not parts or not parts[0].isdigit():
        return [Reply(ctx.t("core.stale_button"), edit=True)]
    ctx.stop_waiting()
    return _save(ctx, int(parts[0]), pending.payload)


@state("contact_customer")
def typed_contact_customer(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    name = ctx.incoming.text.strip()
    resolution = customer_service.resolve_customer(ctx.uow.session, ctx.actor, name)
    if resolution.customer is None and resolution.candidates:
        ctx.await_answer("contact_customer", payload)
        rows = tuple((Button(c.name[:40], f"k:{c.id}"),) for c in resolution.candidates[:5])
        return [Reply(ctx.t("customers.which", name=esc(name)), buttons=rows)]
    customer = resolution.customer or customer_service.create_customer(ctx.uow.session, ctx.actor, name)
    reply = _save(ctx, customer.id or 0, payload)[0]
    return [Reply(reply.text)]
