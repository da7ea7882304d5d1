"""/history in chat on both databases: who did what and when for a customer, as sentences in the reader's language
and zone, newest first, 10 a page with Older/Newer buttons; only for whoever may see the customer (a forged page
button shows nothing); a merged customer's events come along; an unknown event is still shown."""

from __future__ import annotations

from sqlmodel import select

from core.db import session_scope
from core.models import Customer
from tests.conversation import Chat


def payloads(chat: Chat) -> list[str]:
    return [b.payload for row in chat.last[-1].buttons for b in row]


def customer_id(app, name: str) -> int:
    with session_scope(app.engine) as session:
        found = session.exec(select(Customer).where(Customer.name == name)).one()
        assert found.id is not None
        return found.id


async def test_history_tells_who_did_what_newest_first(app, owner, clock):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 200 units, follow up Friday")
    clock.advance(minutes=5)
    await owner.say("/deal Acme 200 units US$12,000")
    clock.advance(minutes=5)
    await owner.press("Proposal & quote")
    await owner.say("/history Acme")
    text = owner.text
    print(text)
    assert "History of Acme · page 1/1" in text
    lines = text.splitlines()[1:]
    assert "Amy Lin changed the stage of 200 units: Initial contact → Proposal &amp; quote" in lines[0]
    assert any("Amy Lin logged a visit" in line for line in lines)
    assert any("Amy Lin added the customer Acme" in line for line in lines)
    assert payloads(owner) == []
