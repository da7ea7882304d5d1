"""Editing and deleting a note, and a forwarded sender becoming a contact, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from core.chat import ChatRef, ForwardOrigin
from core.db import session_scope as run_session
from core.events import FollowUpsChanged
from core.models import AuditEvent, Contact, CustomerAlias, FollowUp, Interaction
from core.usecases.forwards import ForwardedMessage, adopt_sender, append_forward
from core.usecases.note_edits import delete_note, edit_from_source, edit_note
from core.usecases.note_filing import DueChoice, drop_follow_up, file_note, set_follow_up_due
from core.usecases.notes import NoteStatus, Source
from tests.integration.usecases.test_notes import NOW, founder, log, new_customer, run

TAIPEI = ZoneInfo("Asia/Taipei")
LATER = NOW + timedelta(hours=2)


def follow_ups(engine, interaction_id: int) -> list[tuple[str, str, datetime]]:
    with run_session(engine) as session:
        rows = session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction_id)
                            .order_by(col(FollowUp.id))).all()
        return [(f.status, f.action, f.due_at.astimezone(TAIPEI)) for f in rows]


def friday(hour: int = 9) -> datetime:
    return datetime(2026, 11, 20, hour, 0, tzinfo=TAIPEI)


def test_an_edit_re_understands_text_amounts_and_the_follow_up_it_derived(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "拜訪大同五金行王總,他要A100一百件的報價,週五前回覆")
    note = logged.note
    assert note.follow_up is not None
    edited, events = run(engine, lambda uow: edit_note(
        uow, amy, LATER, note.id, "拜訪大同五金行王總,他要A100三百件的報價,下週一前回覆"))
    assert edited.status is NoteStatus.CHANGED and events == [FollowUpsChanged()]
    assert edited.note.customer == note.customer and "三百件" in edited.note.text
    assert [a["value"] for a in edited.note.amounts] == [300]
    assert edited.note.follow_up.id == note.follow_up.id  # the same follow-up, moved
    assert edited.note.follow_up.due_at.astimezone(TAIPEI).date() == datetime(2026, 11, 23).date()
    with run_session(engine) as session:
        stored = session.get(Interaction, note.id)
        assert "三百" in stored.search_text or "300" in stored.search_text
        audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "interaction",
                                                      AuditEvent.action == "edit")).one()
        assert "一百件" in audit.before["text"] and "三百件" in audit.after["text"]
    again, events = run(engine, lambda uow: edit_note(
        uow, amy, LATER, note.id, "拜訪大同五金行王總,他要A100三百件的報價,下週一前回覆"))
    assert again.status is NoteStatus.UNCHANGED and events == []


def test_an_edit_keeps_what_the_member_changed_by_hand(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    note = logged.note
    run(engine, lambda uow: set_follow_up_due(uow, amy, NOW, note.id, choice=DueChoice.NEXT_WEEK))
    moved = follow_ups(engine, note.id)[0][2]
    edited, _ = run(engine, lambda uow: edit_note(
        uow, amy, LATER, note.id, "Visited Acme, Mr. Lee wants a quote for 250 units, follow up Thursday"))
    assert [a["value"] for a in edited.note.amounts] == [250]
    assert follow_ups(engine, note.id) == [("snoozed", "quote", moved)]  # the date set by hand stays

    second, _ = log(engine, amy, "Called Globex, Ms. Chen wants samples, follow up Friday", message_id="m2")
    run(engine, lambda uow: drop_follow_up(uow, amy, second.note.id))
    run(engine, lambda uow: edit_note(uow, amy, LATER, second.note.id,
                                      "Called Globex, Ms. Chen wants 20 samples, follow up Friday"))
    assert [s for s, _, _ in follow_ups(engine, second.note.id)] == ["cancelled"]  # dropped stays dropped


def test_an_edit_adds_or_removes_the_follow_up_the_text_names(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "見了美的集团赵经理,聊了新产品线")
    assert logged.note.follow_up is None
    added, events = run(engine, lambda uow: edit_note(uow, amy, LATER, logged.note.id,
                                                      "見了美的集团赵经理,聊了新产品线,週五前寄报价"))
    assert added.note.follow_up is not None and FollowUpsChanged() in events
    assert added.note.follow_up.due_at.astimezone(TAIPEI).date() == friday().date()
    removed, _ = run(engine, lambda uow: edit_note(uow, amy, LATER, logged.note.id, "見了美的集团赵经理,聊了新产品线"))
    assert removed.note.follow_up is None
    assert [s for s, _, _ in follow_ups(engine, logged.note.id)] == ["cancelled"]


def test_an_edited_chat_message_edits_its_note_and_other_messages_are_ignored(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Called Acme about the invoice", message_id="m7")
    edited, _ = run(engine, lambda uow: edit_from_source(uow, amy, LATER, Source("telegram", "100", "m7"),
                                                        "Called Acme about the invoice, they pay NT$50,000 Friday"))
    assert edited is not None and edited.status is NoteStatus.CHANGED
    assert edited.note.id == logged.note.id and edited.note.amounts[0]["value"] == 50000
    nothing, _ = run(engine, lambda uow: edit_from_source(uow, amy, LATER, Source("telegram", "100", "m8"), "hi"))
    assert nothing is None
    other_chat, _ = run(engine, lambda uow: edit_from_source(uow, amy, LATER, Source("slack", "100", "m7"), "x"))
    assert other_chat is None


def test_delete_is_undo_and_idempotent_and_a_deleted_note_is_not_edited(engine):
    amy = founder(engine)
    logged, _ = log(engine, amy, "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    first, _ = run(engine, lambda uow: delete_note(uow, amy, logged.note.id))
    second, _ = run(engine, lambda uow: delete_note(uow, amy, logged.note.id))
    assert (first.status, second.status) == (NoteStatus.CHANGED, NoteStatus.UNCHANGED) and first.note.deleted
    assert all(s == "cancelled" for s, _, _ in follow_ups(engine, logged.note.id))  # none left open
    edited, _ = run(engine, lambda uow: edit_note(uow, amy, LATER, logged.note.id, "Visited Acme again"))
    assert edited.status is NoteStatus.UNCHANGED and edited.note.deleted
    with run_session(engine) as session:
        assert session.get(Interaction, logged.note.id).text.startswith("Visited Acme, Mr. Lee")


def test_a_forwarded_sender_becomes_the_customers_contact_not_an_alias(engine):
    amy = founder(engine)
    acme = new_customer(engine, amy, "Acme Trading")
    chat = ChatRef("telegram", "100")
    origin = ForwardOrigin("user", "Anna Lopez", platform_user_id="4242", sent_at=NOW - timedelta(hours=1))
    message = ForwardedMessage(chat, "f1", origin, NOW, "Can you send the price list?")
    started, _ = run(engine, lambda uow: append_forward(uow, amy, NOW, message, window=timedelta(seconds=30)))
    assert started.customer is None
    run(engine, lambda uow: file_note(uow, amy, started.note_id, acme))
    adopted, _ = run(engine, lambda uow: adopt_sender(uow, amy, started.note_id))
    assert adopted is not None and adopted.contact == "Anna Lopez"
    assert run(engine, lambda uow: adopt_sender(uow, amy, started.note_id))[0] is None  # once
    with run_session(engine) as session:
        contact = session.exec(select(Contact)).one()
        assert (contact.customer_id, contact.handles) == (acme, {"telegram": "4242"})
        aliases = session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == acme)).all()
        assert "Anna Lopez" not in aliases
    # the next forward from her files itself on Acme Trading, with her as the contact
    later = ForwardedMessage(chat, "f9", origin, NOW + timedelta(hours=1), "Any news on the price list?")
    second, _ = run(engine, lambda uow: append_forward(uow, amy, NOW + timedelta(hours=1), later,
                                                       window=timedelta(seconds=30)))
    assert second.customer is not None and second.customer.id == acme and second.started_burst
