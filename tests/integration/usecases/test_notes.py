"""The "log a note" use cases on both databases: log, the card's buttons, undo, voice notes and forwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from core.chat import ChatRef, ForwardOrigin
from core.events import Event, FollowUpsChanged, ForwardBurstGrew
from core.models import AudioClip, AuditEvent, Contact, CustomerAlias, FollowUp, Interaction, Role
from core.ports import Transcript
from core.services import customers, teams
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import UnitOfWork, unit_of_work
from core.usecases.forwards import ForwardedMessage, ForwardResult, append_forward, burst_summary
from core.usecases.note_filing import (
    DueChoice,
    drop_follow_up,
    file_note,
    file_under_new_customer,
    file_under_typed_name,
    set_follow_up_due,
    undo_note,
)
from core.usecases.notes import NoteInput, NoteResult, NoteStatus, Source, log_note, note_view
from core.usecases.voice_notes import VoiceClip, record_voice_note

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wed 10:00 in Taipei
TAIPEI = ZoneInfo("Asia/Taipei")
CHAT = ChatRef("telegram", "100")
T = TypeVar("T")


def run(engine, work: Callable[[UnitOfWork], T]) -> tuple[T, list[Event]]:
    """One committed unit of work: its result and the events it published."""
    with unit_of_work(engine) as uow:
        result = work(uow)
        events = list(uow.events)
    return result, events


def founder(engine) -> Actor:
    with unit_of_work(engine) as uow:
        return Actor.of(teams.found_team(uow.session, teams.Newcomer("telegram", "1", "100", "Amy")))


def colleague(engine, owner: Actor, user: str) -> Actor:
    with unit_of_work(engine) as uow:
        invite = teams.create_invite(uow.session, owner, Role.sales.value)
        member = teams.join(uow.session, invite.code, teams.Newcomer("telegram", user, f"dm{user}", f"u{user}"))
        return Actor.of(member)


def new_customer(engine, actor: Actor, name: str) -> int:
    with unit_of_work(engine) as uow:
        return customers.create_customer(uow.session, actor, name).id or 0


def log(engine, actor: Actor, text: str, message_id: str = "m1", **more) -> tuple[NoteResult, list[Event]]:
    note = NoteInput(text, Source("telegram", "100", message_id), **more)
    return run(engine, lambda uow: log_note(uow, actor, NOW, note))


def count(engine, model) -> int:
    with unit_of_work(engine) as uow:
        return uow.session.exec(select(func.count()).select_from(model)).one()


def test_a_note_naming_a_new_customer_stores_customer_contact_record_and_follow_up(engine):
    amy = founder(engine)
    result, events = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    note = result.note
    assert result.status is NoteStatus.STORED and not result.must_ask
    assert note.customer.name == "Acme" and note.new_customer and note.contact == "Mr. Lee"
    assert note.kind == "visit" and note.amounts == ({"value": 100.0, "unit": "units"},)
    assert note.follow_up.action == "quote"
    assert note.follow_up.due_at.astimezone(TAIPEI) == datetime(2026, 11, 20, 9, 0, tzinfo=TAIPEI)
    assert note.follow_up.customer == note.customer
    assert events == [FollowUpsChanged()]
    with unit_of_work(engine) as uow:
        stored = uow.session.get(Interaction, note.id)
        assert stored.customer_id == note.customer.id and stored.source_message_id == "m1"
        assert uow.session.exec(select(Contact.name).where(Contact.customer_id == note.customer.id)).all() == [
            "Mr. Lee"]
        assert uow.session.exec(select(AuditEvent.action).where(AuditEvent.entity == "interaction")).all() == [
            "create"]


def test_the_same_message_logged_twice_is_stored_once(engine):
    amy = founder(engine)
    first, _ = log(engine, amy, "Called Acme about the invoice")
    second, events = log(engine, amy, "Called Acme about the invoice")
    assert second.status is NoteStatus.DUPLICATE and second.note == first.note
    assert count(engine, Interaction) == 1 and events == []


def test_a_note_with_nothing_understood_stores_nothing_unless_it_is_a_transcript(engine):
    amy = founder(engine)
    result, _ = log(engine, amy, "hello there")
    assert result.status is NoteStatus.NOTHING and result.note is None and count(engine, Interaction) == 0
    result, _ = log(engine, amy, "hello there", kind="voice", transcript="hello there")
    assert result.status is NoteStatus.STORED and result.must_ask and result.note.transcript == "hello there"


def test_an_ambiguous_customer_is_asked_and_the_confirmed_mention_becomes_an_alias(engine):
    amy = founder(engine)
    hardware = new_customer(engine, amy, "大同五金")
    electronics = new_customer(engine, amy, "大同電子")
    asked, events = log(engine, amy, "打給大同,確認交期")
    assert asked.must_ask and asked.note.mention == "大同" and events == []
    assert {c.id for c in asked.note.candidates} == {hardware, electronics}

    filed, _ = run(engine, lambda uow: file_note(uow, amy, asked.note.id, hardware))
    assert filed.status is NoteStatus.CHANGED and filed.note.customer.id == hardware and not filed.must_ask
    with unit_of_work(engine) as uow:
        aliases = uow.session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == hardware)).all()
    assert "大同" in aliases
    again, _ = log(engine, amy, "打給大同,確認交期", message_id="m2")
    assert again.note.customer.id == hardware  # the learnt alias decides now


def test_an_unfiled_note_without_candidates_offers_the_recent_customers(engine):
    amy = founder(engine)
    acme = new_customer(engine, amy, "Acme")
    result, _ = log(engine, amy, "Called the client about pricing")
    assert result.must_ask and result.note.mention is None
    assert [c.id for c in result.note.candidates] == [acme]


def test_filing_under_the_mention_as_a_new_customer_happens_once(engine):
    amy = founder(engine)
    new_customer(engine, amy, "大同五金")
    new_customer(engine, amy, "大同電子")
    asked, _ = log(engine, amy, "打給大同,確認交期")
    filed, _ = run(engine, lambda uow: file_under_new_customer(uow, amy, asked.note.id))
    assert filed.status is NoteStatus.CHANGED and filed.note.customer.name == "大同" and filed.note.new_customer
    again, _ = run(engine, lambda uow: file_under_new_customer(uow, amy, asked.note.id))
    assert again.status is NoteStatus.UNCHANGED and again.note.customer == filed.note.customer

    nameless, _ = log(engine, amy, "Called the client about pricing", message_id="m2")
    refused, _ = run(engine, lambda uow: file_under_new_customer(uow, amy, nameless.note.id))
    assert refused.status is NoteStatus.NO_MENTION and refused.note.customer is None


def test_a_typed_name_files_the_note_or_asks_among_close_ones(engine):
    amy = founder(engine)
    hardware = new_customer(engine, amy, "大同五金")
    electronics = new_customer(engine, amy, "大同電子")
    asked, _ = log(engine, amy, "Called the client about pricing")
    close, _ = run(engine, lambda uow: file_under_typed_name(uow, amy, asked.note.id, "大同"))
    assert close.status is NoteStatus.AMBIGUOUS and close.must_ask
    assert {c.id for c in close.note.candidates} == {hardware, electronics}
    created, _ = run(engine, lambda uow: file_under_typed_name(uow, amy, asked.note.id, " Globex "))
    assert created.status is NoteStatus.CHANGED and created.note.customer.name == "Globex"


def test_filing_a_note_on_a_colleagues_customer_moves_its_follow_up_with_an_audit_event(engine):
    amy = founder(engine)
    bob = colleague(engine, amy, "2")
    initech = new_customer(engine, amy, "Initech Corp")  # Amy's: Bob does not see it
    asked, _ = log(engine, bob, "Called the client about pricing, follow up Friday")
    assert asked.note.customer is None and asked.note.follow_up is not None
    filed, _ = run(engine, lambda uow: file_under_typed_name(uow, bob, asked.note.id, "Initech Corp"))
    assert filed.status is NoteStatus.CHANGED
    with unit_of_work(engine) as uow:
        follow_up = uow.session.exec(select(FollowUp).where(FollowUp.source_interaction_id == asked.note.id)).one()
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.entity == "followup",
                                                           AuditEvent.entity_id == follow_up.id,
                                                           AuditEvent.action == "file")).all()
    assert follow_up.customer_id == initech
    assert [(e.before, e.after, e.customer_id) for e in events] == [({"customer_id": None},
                                                                      {"customer_id": initech}, initech)]


def test_the_follow_up_moves_to_a_choice_or_a_typed_time_and_a_bad_time_changes_nothing(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    iid, first = logged.note.id, logged.note.follow_up
    moved, events = run(engine, lambda uow: set_follow_up_due(uow, amy, NOW, iid, choice=DueChoice.TOMORROW))
    assert moved.note.follow_up.id == first.id and events == [FollowUpsChanged()]
    assert moved.note.follow_up.due_at.astimezone(TAIPEI) == datetime(2026, 11, 19, 9, 0, tzinfo=TAIPEI)
    typed, _ = run(engine, lambda uow: set_follow_up_due(uow, amy, NOW, iid, typed="tomorrow 3pm"))
    assert typed.note.follow_up.due_at.astimezone(TAIPEI) == datetime(2026, 11, 19, 15, 0, tzinfo=TAIPEI)
    assert typed.note.follow_up.explicit_time
    for text in ("blah blah", "yesterday 3pm"):
        bad, events = run(engine, lambda uow, text=text: set_follow_up_due(uow, amy, NOW, iid, typed=text))
        assert bad.status is NoteStatus.BAD_DATE and events == [] and bad.note.follow_up == typed.note.follow_up


def test_a_note_without_follow_up_gets_one_with_the_drafted_action(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Called Acme about the invoice")
    assert logged.note.follow_up is None
    due, _ = run(engine, lambda uow: set_follow_up_due(uow, amy, NOW, logged.note.id, choice=DueChoice.NEXT_WEEK))
    follow_up = due.note.follow_up
    assert follow_up.customer == logged.note.customer and not follow_up.explicit_time
    assert follow_up.due_at.astimezone(TAIPEI) == datetime(2026, 11, 23, 9, 0, tzinfo=TAIPEI)


def test_dropping_the_follow_up_cancels_it_once(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    dropped, _ = run(engine, lambda uow: drop_follow_up(uow, amy, logged.note.id))
    assert dropped.status is NoteStatus.CHANGED and dropped.note.follow_up is None
    again, _ = run(engine, lambda uow: drop_follow_up(uow, amy, logged.note.id))
    assert again.status is NoteStatus.UNCHANGED
    with unit_of_work(engine) as uow:
        assert uow.session.exec(select(FollowUp.status)).all() == ["cancelled"]


def test_undo_withdraws_the_note_and_its_follow_up_and_a_withdrawn_note_changes_no_more(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    iid = logged.note.id
    undone, _ = run(engine, lambda uow: undo_note(uow, amy, iid))
    assert undone.status is NoteStatus.CHANGED and undone.note.deleted and undone.note.follow_up is None
    again, _ = run(engine, lambda uow: undo_note(uow, amy, iid))
    assert again.status is NoteStatus.UNCHANGED
    other = new_customer(engine, amy, "Globex")
    for change in (lambda uow: file_note(uow, amy, iid, other),
                   lambda uow: set_follow_up_due(uow, amy, NOW, iid, choice=DueChoice.TOMORROW)):
        result, events = run(engine, change)
        assert result.status is NoteStatus.UNCHANGED and result.note.deleted and events == []
    # the customer, contact and follow-up the note created went with it (nothing else referred to them)
    assert run(engine, lambda uow: note_view(uow, amy, iid))[0].customer is None
    with unit_of_work(engine) as uow:
        assert uow.session.exec(select(FollowUp.status)).all() == []
        assert uow.session.exec(select(Contact.name)).all() == []
        assert [c.name for c in customers.list_customers(uow.session, amy)] == ["Globex"]


def test_another_salespersons_note_is_not_found(engine):
    amy = founder(engine)
    bob, cat = colleague(engine, amy, "2"), colleague(engine, amy, "3")
    logged, _ = log(engine, bob, "Called Acme about the invoice")
    with pytest.raises(NotFound):
        run(engine, lambda uow: note_view(uow, cat, logged.note.id))
    with pytest.raises(NotFound):
        run(engine, lambda uow: undo_note(uow, cat, logged.note.id))
    assert not run(engine, lambda uow: note_view(uow, bob, logged.note.id))[0].deleted
    assert run(engine, lambda uow: note_view(uow, amy, logged.note.id))[0].id == logged.note.id  # the owner sees all


def transcript(text: str, *, low_confidence: bool = False) -> Transcript:
    return Transcript(text, "en", 0.93, 4.2, 1.5, low_confidence, ("short",) if low_confidence else (), "fake")


def test_a_voice_note_keeps_its_audio_facts_and_the_clip_under_the_size_limit(engine):
    amy = founder(engine)
    said = "Visited Acme, follow up Friday"
    clip = VoiceClip(transcript(said, low_confidence=True), b"OggS" + b"\x00" * 100, "audio/ogg",
                     Source("telegram", "100", "v1"), keep_bytes=1000)
    result, events = run(engine, lambda uow: record_voice_note(uow, amy, NOW, clip))
    assert isinstance(result, NoteResult) and result.status is NoteStatus.STORED
    assert result.note.kind == "voice" and result.note.transcript == said and result.note.low_confidence
    assert events == [FollowUpsChanged()]
    big = VoiceClip(transcript("Called Acme about the invoice"), b"x" * 2000, None,
                    Source("telegram", "100", "v2"), keep_bytes=1000)
    run(engine, lambda uow: record_voice_note(uow, amy, NOW, big))
    with unit_of_work(engine) as uow:
        clips = uow.session.exec(select(AudioClip)).all()
        assert [(c.interaction_id, c.data, c.mime_type) for c in clips] == [(result.note.id, clip.audio, "audio/ogg")]
        details = uow.session.get(Interaction, result.note.id).details
    assert details["audio"]["bytes"] == 104 and details["audio"]["engine"] == "fake"
    assert details["low_confidence_reasons"] == ["short"]


def test_forwarded_voice_joins_the_burst_as_the_customers_words(engine):
    amy = founder(engine)
    origin = ForwardOrigin("user", "Mr. Lee", sent_at=NOW - timedelta(hours=1))
    window = timedelta(seconds=30)

    def forward(message_id: str, text: str) -> ForwardedMessage:
        return ForwardedMessage(CHAT, message_id, origin, NOW, text)

    started, _ = run(engine, lambda uow: append_forward(uow, amy, NOW, forward("f1", "Price please"), window=window))
    clip = VoiceClip(transcript("A hundred units by Friday"), b"OggS" + b"\x01" * 50, "audio/ogg",
                     Source("telegram", "100", "f2"), keep_bytes=1000)
    joined, events = run(engine, lambda uow: record_voice_note(uow, amy, NOW, clip, forward=forward("f2", ""),
                                                               window=window))
    assert isinstance(joined, ForwardResult) and isinstance(started, ForwardResult)
    assert started.started_burst and not joined.started_burst and joined.note_id == started.note_id
    assert events == [ForwardBurstGrew(CHAT, amy.member_id, started.note_id)]
    summary, _ = run(engine, lambda uow: burst_summary(uow, amy.member_id, started.note_id))
    assert summary.messages == 2 and summary.actor == amy
    assert "Mr. Lee: Price please" in summary.note.text and "Mr. Lee: A hundred units by Friday" in summary.note.text
    assert summary.note.customer is None and summary.note.mention is None  # a sender is no customer's name
    with unit_of_work(engine) as uow:
        details = uow.session.get(Interaction, started.note_id).details
        assert details["sender"] == {"name": "Mr. Lee", "platform": "telegram", "user": None}
        kept = uow.session.exec(select(AudioClip.interaction_id)).all()
        messages = uow.session.exec(select(col(Interaction.id))).all()
    assert [v["message_id"] for v in details["voice"]] == ["f2"] and kept == [started.note_id]
    assert len(messages) == 1
