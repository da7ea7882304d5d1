"""`core.events.Tell`: news a member did not ask for reaches their own private chat, in their language."""

from __future__ import annotations

from sqlmodel import select

from core.events import Tell
from core.models import Member
from core.uow import unit_of_work


async def test_a_tell_is_rendered_in_the_members_language_and_sent_to_their_chat(app, owner, sales):
    with unit_of_work(app.engine) as uow:
        member = uow.session.exec(select(Member).where(Member.name == "陳小姐")).one()
        member_id = member.id
    app.deliver([Tell.of(member_id, "onboarding.already", team="<Acme>")])
    await app.member_messages.drain()
    messenger = app.messengers["test"]
    to, reply = messenger.sent[-1]
    assert to.chat_id == "dm-sales1"
    assert "&lt;Acme&gt;" in reply.text
    assert "團隊" in reply.text or "团队" in reply.text  # zh-TW newcomer → zh-Hant


async def test_a_tell_to_a_member_who_left_is_not_sent(app, owner, sales):
    with unit_of_work(app.engine) as uow:
        member = uow.session.exec(select(Member).where(Member.name == "陳小姐")).one()
        member.active = False
        uow.session.add(member)
        member_id = member.id
    sent = await app.member_messages.send(Tell.of(member_id, "onboarding.already", team="Acme"))
    assert sent == 0
