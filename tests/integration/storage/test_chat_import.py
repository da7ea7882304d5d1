"""Imported conversations: stored once per customer, overlap-safe, filed later without duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from core.db import session_scope
from core.models import ConversationMessage, Interaction
from core.services import chat_import, customers, teams
from core.services.actor import Actor

T0 = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Msg:
    sender: str | None
    timestamp: datetime
    text: str
    kind: str = "text"


def chat(n: int, start: int = 0) -> list[Msg]:
    return [Msg("陳小姐" if i % 2 else "Amy", T0 + timedelta(minutes=i), f"message {i}") for i in range(start, start + n)]


def _owner(session) -> Actor:
    return Actor.of(teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy")))


def messages(session) -> int:
    return session.exec(select(func.count()).select_from(ConversationMessage)).one()


def test_reimport_and_overlap_add_nothing_twice(engine):
    with session_scope(engine) as session:
        owner = _owner(session)
        acme = customers.create_customer(session, owner, "大同五金")
        first = chat_import.store_conversation(session, owner, chat(10), fmt="whatsapp", title=None, me="Amy",
                                               customer=acme)
        assert (first.added, first.duplicates) == (10, 0)
        again = chat_import.store_conversation(session, owner, chat(10), fmt="whatsapp", title=None, me="Amy",
                                               customer=acme)
        assert (again.added, again.duplicates, again.interaction) == (0, 10, None)
        overlap = chat_import.store_conversation(session, owner, chat(10, start=5), fmt="whatsapp", title=None,
                                                 me="Amy", customer=acme)
        assert (overlap.added, overlap.duplicates) == (5, 5)
        assert messages(session) == 15
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 2
        mine = session.exec(select(func.count()).select_from(ConversationMessage)
                            .where(ConversationMessage.from_member.is_(True))).one()
        assert mine == 8  # Amy wrote the even-numbered messages 0..14
        assert first.first == T0 and first.last == T0 + timedelta(minutes=9)


def test_unfiled_import_is_kept_and_filing_drops_what_the_customer_already_has(engine):
    with session_scope(engine) as session:
        owner = _owner(session)
        acme = customers.create_customer(session, owner, "大同五金")
        chat_import.store_conversation(session, owner, chat(6), fmt="whatsapp", title=None, me="Amy", customer=acme)
        pending = chat_import.store_conversation(session, owner, chat(6, start=3), fmt="whatsapp", title=None,
                                                 me=None, customer=None)
        assert pending.added == 6 and pending.interaction.customer_id is None
        kept = chat_import.file_conversation(session, owner, pending.interaction.id, acme)
        assert kept == 3 and messages(session) == 9
        chat_import.set_member_side(session, owner, pending.interaction.id, "Amy")
        flags = session.exec(select(ConversationMessage.sender, ConversationMessage.from_member)
                             .where(ConversationMessage.interaction_id == pending.interaction.id)).all()
        assert all(flag == (sender == "Amy") for sender, flag in flags)


def test_member_side_and_customer_guess(engine):
    assert chat_import.member_side(["陳小姐", "Amy Lin"], ["amy lin", "Amy"]) == "Amy Lin"
    assert chat_import.member_side(["A", "B"], ["Amy"]) is None
    with session_scope(engine) as session:
        owner = _owner(session)
        datong = customers.create_customer(session, owner, "大同五金")
        customers.add_contact(session, owner, datong.id, "陳小姐")
        assert chat_import.guess_customer(session, owner, ["陳小姐"], None).id == datong.id
        assert chat_import.guess_customer(session, owner, ["Nobody"], "大同五金").id == datong.id
        assert chat_import.guess_customer(session, owner, ["Nobody"], None) is None


def test_future_promises_become_proposals_not_follow_ups(engine):
    @dataclass
    class Draft:
        follow_up: object

    @dataclass
    class FollowUp:
        due: datetime
        action: str

    def parse(text, *, now, tz):
        return Draft(FollowUp(now + timedelta(days=3), "交貨") if "交貨" in text else None)

    convo = [Msg("陳小姐", T0, "8月15日前交貨可以嗎"), Msg("Amy", T0, "好的"), Msg("Amy", T0 - timedelta(days=30), "上次交貨 1日")]
    with session_scope(engine) as session:
        owner = _owner(session)
        result = chat_import.store_conversation(session, owner, convo, fmt="whatsapp", title=None, me="Amy",
                                                customer=None, note_parser=parse, now=T0 + timedelta(hours=1))
        assert [p.action for p in result.proposals] == ["交貨"]  # the month-old promise is already past
        assert result.interaction.details["proposals"][0]["quote"] == "8月15日前交貨可以嗎"


def test_the_members_side_skips_system_lines_that_have_no_sender(engine):
    convo = [Msg(None, T0, "Messages and calls are end-to-end encrypted.", "system"),
             Msg("Janet Wu", T0 + timedelta(minutes=1), "Can you quote 300 units?"),
             Msg(None, T0 + timedelta(minutes=2), "<@U9> has joined the channel", "system"),
             Msg("Amy", T0 + timedelta(minutes=3), "By next Tuesday")]
    with session_scope(engine) as session:
        owner = _owner(session)
        stored = chat_import.store_conversation(session, owner, convo, fmt="whatsapp", title=None, me=None,
                                                customer=None)
        chat_import.set_member_side(session, owner, stored.interaction.id, "Amy")
        session.flush()
        flags = session.exec(select(ConversationMessage.sender, ConversationMessage.from_member)
                             .order_by(ConversationMessage.sent_at)).all()
    assert flags == [(None, False), ("Janet Wu", False), (None, False), ("Amy", True)]
