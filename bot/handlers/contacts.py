"""A shared phone contact becomes a contact of a customer (asking which one): `core.usecases.contacts`.

The question shows what the card holds (name, title, company, phones, e-mail); the customer the company
names comes first, a company no customer has is offered as a new customer (`k:new`), and Cancel ends it.
"""

from __future__ import annotations

from bot.context import Ctx
from bot.handlers.note_edits import cancel_button
from bot.note_cards import distinct_labels
from bot.render import esc
from bot.router import button, content, state
from core.chat import Button, ContactIn, Reply, TextIn
from core.usecases import contacts
from core.usecases.contacts import ContactSaved, SharedContact
from core.usecases.typed_answers import name_problem
from core.usecases.views import CustomerRef

AWAITED = "contact_customer"
NEW_COMPANY = "new"


def _choices(ctx: Ctx, customers: tuple[CustomerRef, ...], new_company: str | None = None
             ) -> tuple[tuple[Button, ...], ...]:
    rows = [(Button(label, f"k:{c.id}"),) for c, label in zip(customers, distinct_labels(customers), strict=True)]
    if new_company:
        rows.append((Button(ctx.t("note_edits.btn_new_company", name=new_company[:30]), f"k:{NEW_COMPANY}"),))
    rows.append((cancel_button(ctx, AWAITED),))
    return tuple(rows)


def _saved(ctx: Ctx, saved: ContactSaved, *, edit: bool) -> Reply:
    return Reply(ctx.t("contacts.saved", name=esc(saved.name), customer=esc(saved.customer.name)), edit=edit)


def _card(ctx: Ctx, contact: SharedContact) -> str:
    """Who the contact is, one line: name · title · company · phones · e-mail."""
    parts = [f"<b>{esc(contact.name)}</b>"]
    parts += [esc(value) for value in (contact.title, contact.company) if value]
    parts += [esc(phone) for phone in contact.phones or ((contact.phone,) if contact.phone else ())]
    if contact.email:
        parts.append(esc(contact.email))
    return " · ".join(parts)


@content("contact")
def shared_contact(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, ContactIn)
    incoming = ctx.incoming
    received = contacts.receive_contact(ctx.uow, ctx.actor, name=incoming.name, phone=incoming.phone,
                                        platform=incoming.env.chat.platform,
                                        platform_user_id=incoming.platform_user_id, company=incoming.company,
                                        title=incoming.title, email=incoming.email, phones=incoming.phones)
    ctx.await_answer(AWAITED, received.contact.to_json())
    key = "note_edits.contact_company" if received.suggested else "note_edits.contact_which"
    text = ctx.t(key, contact=_card(ctx, received.contact),
                 customer=esc(received.suggested.name if received.suggested else ""))
    return [Reply(text, buttons=_choices(ctx, received.choices, received.new_company))]


@button("k")
def contact_customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    pending = ctx.awaited()
    choice = parts[0] if parts else ""
    if pending is None or pending.kind != AWAITED or not (choice.isdigit() or choice == NEW_COMPANY):
        text = ctx.t("note_edits.question_closed")
        return [Reply(text, edit=True, notice=text)]
    contact = SharedContact.from_json(pending.payload, ctx.incoming.env.chat.platform)
    if choice == NEW_COMPANY:
        outcome = contacts.save_contact_to_company(ctx.uow, ctx.actor, contact)
        if isinstance(outcome, contacts.WhichCustomer):
            return [Reply(ctx.t("customers.which", name=esc(outcome.name)),
                          buttons=_choices(ctx, outcome.candidates), edit=True)]
        ctx.stop_waiting()
        return [_saved(ctx, outcome, edit=True)]
    ctx.stop_waiting()
    return [_saved(ctx, contacts.save_contact(ctx.uow, ctx.actor, int(choice), contact), edit=True)]


@state(AWAITED)
def typed_contact_customer(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    problem = name_problem(ctx.incoming.text, now=ctx.now, tz=ctx.tz)
    if problem is not None:  # not a name: keep waiting, say why
        ctx.await_answer(AWAITED, payload)
        return [Reply(ctx.t(f"note_edits.not_a_name_{problem.value}"), buttons=((cancel_button(ctx, AWAITED),),))]
    contact = SharedContact.from_json(payload, ctx.incoming.env.chat.platform)
    outcome = contacts.save_contact_to_named(ctx.uow, ctx.actor, ctx.incoming.text, contact)
    if isinstance(outcome, contacts.WhichCustomer):
        ctx.await_answer(AWAITED, payload)
        return [Reply(ctx.t("customers.which", name=esc(outcome.name)), buttons=_choices(ctx, outcome.candidates))]
    return [_saved(ctx, outcome, edit=False)]
