"""The chat-export import use cases, on both databases: one flow for the chat and for `chatcrm import-chat`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlmodel import col, select

from bot.bootstrap import build
from bot.cli.local_import import import_locally
from core.db import session_scope
from core.events import Event, FollowUpsChanged, SpooledFileDone
from core.exports import ParsedConversation
from core.models import ConversationMessage, Customer, CustomerAlias, FollowUp, Interaction
from core.services import customers, teams
from core.services.actor import Actor
from core.services.name_index import name_index
from core.settings import load_settings
from core.uow import UnitOfWork, unit_of_work
from core.usecases import chat_import_spool as spool
from core.usecases import chat_imports
from core.usecases.chat_imports import ImportView, Unreadable
from tests.conversation import Chat, RecordingMessenger

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"
TAIPEI = ZoneInfo("Asia/Taipei")
# 2026-11-16 (Mon) and 17 (Tue) in Taipei: the fake clock is Wed 2026-11-18 10:00
CHAT = ("2026/11/16 下午3:05 - 陳小姐: 王先生您好,A100 一百件的報價收到了\n"
        "2026/11/16 下午3:10 - 王大明: 好的,我們下週五前交貨\n"
        "2026/11/17 上午9:00 - 陳小姐: <媒體已略去>\n"
        "2026/11/17 上午9:05 - 陳小姐: 謝謝!\n")
NAME = "WhatsApp Chat with 陳小姐.txt"
T = TypeVar("T")


def run(engine, work: Callable[[UnitOfWork], T]) -> tuple[T, list[Event]]:
    """One committed unit of work; returns its result and the events it published."""
    with unit_of_work(engine) as uow:
        result = work(uow)
        events = list(uow.events)
    return result, events


def owner(engine) -> Actor:
    with session_scope(engine) as session:
        return Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin")))


def with_datong(engine, actor: Actor) -> int:
    with session_scope(engine) as session:
        datong = customers.create_customer(session, actor, "大同五金")
        customers.add_contact(session, actor, datong.id, "陳小姐")
        return datong.id


def parsed(data: bytes | str, file_name: str = "chat.txt", **kw: Any) -> ParsedConversation:
    result = chat_imports.read_export(data.encode() if isinstance(data, str) else data, zone=TAIPEI,
                                      file_name=file_name, **kw)
    assert isinstance(result, ParsedConversation), result
    return result


def import_chat(engine, actor: Actor, clock, conversation: ParsedConversation) -> ImportView:
    view, _ = run(engine, lambda uow: chat_imports.import_conversation(uow, actor, clock.now(), conversation))
    return view


def test_an_export_lands_on_the_contacts_customer_with_proposals_and_the_questions_left(engine, clock):
    actor = owner(engine)
    datong = with_datong(engine, actor)
    view = import_chat(engine, actor, clock, parsed(CHAT))
    assert view.customer is not None and view.customer.id == datong and not view.asks_customer
    assert (view.format, view.messages, view.duplicates) == ("whatsapp", 4, 0)
    assert (view.first.astimezone(TAIPEI).date().isoformat(), view.last.astimezone(TAIPEI).date().isoformat()) == (
        "2026-11-16", "2026-11-17")
    assert view.participants == ("陳小姐", "王大明") and view.me is None and view.asks_which_is_you
    assert [(p.index, p.due.astimezone(UTC).isoformat(), p.accepted) for p in view.proposals] == [
        (0, "2026-11-27T01:00:00+00:00", False)]  # 下週五 from Mon 16th, 09:00 Taipei
    assert "我們下週五前交貨" in view.proposals[0].quote
    with session_scope(engine) as session:
        assert session.exec(select(FollowUp)).all() == []  # a promise waits for the member


def test_accepting_a_proposal_schedules_it_once_and_wakes_the_dispatcher(engine, clock):
    actor = owner(engine)
    with_datong(engine, actor)
    iid = import_chat(engine, actor, clock, parsed(CHAT)).interaction_id
    view, events = run(engine, lambda uow: chat_imports.accept_proposal(uow, actor, iid, 0))
    assert view is not None and view.accepted == (0,) and events == [FollowUpsChanged()]
    again, events = run(engine, lambda uow: chat_imports.accept_proposal(uow, actor, iid, 0))
    assert again is not None and again.accepted == (0,) and events == []
    stale, _ = run(engine, lambda uow: chat_imports.accept_proposal(uow, actor, iid, 7))
    assert stale is None
    with session_scope(engine) as session:
        follow_up = session.exec(select(FollowUp)).one()
        assert follow_up.source_interaction_id == iid and follow_up.due_at.isoformat() == "2026-11-27T01:00:00+00:00"


def test_the_members_side_marks_their_messages(engine, clock):
    actor = owner(engine)
    first = import_chat(engine, actor, clock, parsed(CHAT))
    assert first.asks_customer and first.mention is None  # two people, no title: who is the customer?
    iid = first.interaction_id
    view, _ = run(engine, lambda uow: chat_imports.set_member_side(uow, actor, iid, 1))
    assert view is not None and view.me == "王大明" and not view.asks_which_is_you
    assert view.mention == "陳小姐"  # so the chat is with the other one
    missing, _ = run(engine, lambda uow: chat_imports.set_member_side(uow, actor, iid, 5))
    assert missing is None
    with session_scope(engine) as session:
        mine = session.exec(select(ConversationMessage.sender).where(ConversationMessage.from_member)).all()
    assert set(mine) == {"王大明"}


def test_a_sender_name_tells_the_members_side(engine, clock):
    actor = owner(engine)
    view, _ = run(engine, lambda uow: chat_imports.import_conversation(uow, actor, clock.now(), parsed(CHAT),
                                                                       also_known_as=("王大明",)))
    assert view.me == "王大明" and not view.asks_which_is_you


def test_an_unknown_customer_is_left_to_ask_then_filed_on_a_new_one_and_not_imported_twice(engine, clock):
    actor = owner(engine)
    conversation = parsed((SAMPLES / "whatsapp_android_en_us.txt").read_bytes(), "WhatsApp Chat with Janet Wu.txt")
    view = import_chat(engine, actor, clock, conversation)
    assert view.asks_customer and view.customer is None and view.mention == "Janet Wu"
    filed, _ = run(engine, lambda uow: chat_imports.file_on_new_customer(uow, actor, view.interaction_id or 0))
    assert filed.customer is not None and filed.customer.name == "Janet Wu" and not filed.asks_customer
    with session_scope(engine) as session:
        assert set(session.exec(select(ConversationMessage.customer_key)).all()) == {str(filed.customer.id)}
    again = import_chat(engine, actor, clock, conversation)
    assert again.interaction_id is None and again.messages == 0 and again.duplicates == view.messages


def test_filing_on_a_customer_who_has_some_messages_drops_them_and_counts_them(engine, clock):
    actor = owner(engine)
    datong = with_datong(engine, actor)
    import_chat(engine, actor, clock, parsed(CHAT))  # on 大同五金 by its contact 陳小姐
    # the same chat exported from another phone, where 陳小姐 is saved as "Chen", one message longer
    other_phone = CHAT.replace("陳小姐", "Chen") + "2026/11/17 上午9:30 - 王大明: 明天寄樣品\n"
    unknown = import_chat(engine, actor, clock, parsed(other_phone))
    assert unknown.asks_customer and (unknown.messages, unknown.duplicates) == (5, 0)
    filed, _ = run(engine, lambda uow: chat_imports.file_import(uow, actor, unknown.interaction_id or 0, datong))
    assert filed.customer is not None and filed.customer.id == datong
    assert (filed.messages, filed.duplicates) == (4, 1)  # 王大明's first message was on the timeline already


def test_a_file_that_is_no_export_or_broken_says_why(engine):
    junk = chat_imports.read_export(b"\x00\x01 junk" * 40, zone=TAIPEI, file_name="x.txt")
    assert isinstance(junk, Unreadable) and junk.code == "binary" and junk.not_an_export
    broken = chat_imports.read_export(b'{"name": "x", "messages": [{"id": 1,', zone=TAIPEI, file_name="result.json")
    assert isinstance(broken, Unreadable) and broken.code == "invalid_json" and not broken.not_an_export
    ambiguous = chat_imports.read_export((SAMPLES / "whatsapp_ambiguous.txt").read_bytes(), zone=TAIPEI,
                                         file_name="chat.txt")
    assert isinstance(ambiguous, Unreadable) and ambiguous.needs_date_order


class Boom(Exception):
    pass


def test_a_failed_import_leaves_nothing_behind(engine, clock):
    actor = owner(engine)
    with pytest.raises(Boom), unit_of_work(engine) as uow:
        chat_imports.import_conversation(uow, actor, clock.now(), parsed(CHAT))
        raise Boom
    with session_scope(engine) as session:
        assert session.exec(select(Interaction)).all() == []
        assert session.exec(select(ConversationMessage)).all() == []


def test_a_parked_file_is_discarded_only_after_the_import_committed(engine, clock, tmp_path):
    spool_dir = tmp_path / "spool"
    actor = owner(engine)
    data = (SAMPLES / "whatsapp_ambiguous.txt").read_bytes()
    token = spool.park(spool_dir, actor, data, "chat.txt")
    spooled = spool.take(spool_dir, actor, token)
    assert spooled is not None and spooled.data == data and spooled.file_name == "chat.txt"
    assert spool.take(spool_dir, actor, "nosuchtoken") is None and spool.date_order("ymd") is None
    order = spool.date_order("dmy")
    conversation = chat_imports.read_export(spooled.data, zone=TAIPEI, file_name="chat.txt", date_order=order)

    # a failed unit of work publishes nothing: the file stays parked for another try
    with pytest.raises(Boom), unit_of_work(engine) as uow:
        spool.resume(uow, actor, clock.now(), spooled, conversation)
        raise Boom
    assert spool.take(spool_dir, actor, token) is not None
    view, events = run(engine, lambda uow: spool.resume(uow, actor, clock.now(), spooled, conversation))
    assert isinstance(view, ImportView) and view.messages == 2
    assert events == [SpooledFileDone(spooled.path)]
    assert spool.take(spool_dir, actor, token) is not None  # still there until the event is delivered
    spool.discard(events[0])
    assert list(spool_dir.iterdir()) == []


# -- the chat and the CLI store the same ------------------------------------------------------------
def snapshot(engine) -> dict[str, Any]:
    with session_scope(engine) as session:
        record = session.exec(select(Interaction).where(Interaction.kind == "message")).one()
        customer = session.get(Customer, record.customer_id) if record.customer_id else None
        rows = session.exec(select(ConversationMessage).where(ConversationMessage.interaction_id == record.id)
                            .order_by(col(ConversationMessage.sent_at), col(ConversationMessage.id))).all()
        return {"customer": customer.name if customer else None, "text": record.text,
                "search_text": record.search_text, "occurred_at": record.occurred_at,
                "details": record.details,
                "messages": [(m.sender, m.sent_at, m.kind, m.text, m.from_member, m.dedup_key,
                              m.customer_key == str(record.customer_id)) for m in rows]}


def forget_imports(engine) -> None:
    with session_scope(engine) as session:
        ids = session.exec(select(Interaction.id).where(Interaction.kind == "message")).all()
        session.execute(delete(ConversationMessage).where(col(ConversationMessage.interaction_id).in_(ids)))
        session.execute(delete(Interaction).where(col(Interaction.id).in_(ids)))


async def test_the_chat_and_the_cli_store_the_same(engine, clock, tmp_path):
    settings = load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                             database_url=engine.url.render_as_string(hide_password=False),
                             import_spool_dir=tmp_path / "spool")
    app = build(settings, clock=clock, engine=engine)
    messenger = RecordingMessenger("test")
    app.attach(messenger)
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    await amy.say("拜訪大同五金陳小姐,談 A100")
    messenger.files["f1"] = CHAT.encode()
    replies = await amy.file(NAME, "f1")
    assert "Imported 4 messages (WhatsApp)." in replies[0].text  # the format by its name, not its key
    by_chat = snapshot(engine)
    forget_imports(engine)
    summary = import_locally(settings, parsed(CHAT, NAME), "Asia/Taipei", interactive=False, clock=clock)
    assert (summary["added"], summary["duplicates"], summary["customer"]) == (4, 0, "大同五金")
    assert summary["proposals"] == by_chat["details"]["proposals"] and summary["scheduled"] == 0
    assert datetime.fromisoformat(summary["proposals"][0]["due"]) == datetime(2026, 11, 27, 1, tzinfo=UTC)
    by_cli = snapshot(engine)
    assert by_cli == by_chat
    again = import_locally(settings, parsed(CHAT, NAME), "Asia/Taipei", interactive=False, clock=clock)
    assert (again["added"], again["duplicates"], again["interaction_id"]) == (0, 4, None)


def set_aside(engine, name: str) -> None:
    """Forget the imports and make the customer `name` unfindable, so the next import starts afresh."""
    forget_imports(engine)
    with session_scope(engine) as session:
        customer = session.exec(select(Customer).where(Customer.name == name)).one()
        customer.name = customer.name_key = f"set aside {customer.id}"
        customer.aliases = []
        session.execute(delete(CustomerAlias).where(col(CustomerAlias.customer_id) == customer.id))
        session.add(customer)
        name_index.invalidate(customer.team_id)


async def test_an_unknown_customer_gets_the_same_new_customer_from_the_chat_and_the_cli(engine, clock, tmp_path):
    """The chat asks and the member taps "New customer"; the CLI (--yes) does that by itself."""
    data = (SAMPLES / "whatsapp_android_en_us.txt").read_bytes()
    name = "WhatsApp Chat with Janet Wu.txt"
    settings = load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                             database_url=engine.url.render_as_string(hide_password=False))
    app = build(settings, clock=clock, engine=engine)
    messenger = RecordingMessenger("test")
    app.attach(messenger)
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    messenger.files["f1"] = data
    replies = await amy.file(name, "f1")
    assert "not known yet" in replies[0].text
    await amy.press("New customer", replies[1])
    by_chat = snapshot(engine)
    set_aside(engine, "Janet Wu")
    summary = import_locally(settings, parsed(data, name), "Asia/Taipei", interactive=False, clock=clock)
    assert summary["customer"] == "Janet Wu" and summary["added"] == len(by_chat["messages"])
    by_cli = snapshot(engine)
    assert by_cli["customer"] == by_chat["customer"] == "Janet Wu"
    assert by_cli == by_chat


def test_the_cli_asks_on_the_terminal_what_the_chat_asks_with_buttons(engine, clock, tmp_path, monkeypatch):
    from bot.cli import local_import

    settings = load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                             database_url=engine.url.render_as_string(hide_password=False))
    answers = iter([2, 0])  # "Which participant is you?" → 王大明; "Customer" → a new one, named like the chat
    asked: list[str] = []
    monkeypatch.setattr(local_import.typer, "prompt", lambda text, **kw: asked.append(text) or next(answers))
    monkeypatch.setattr(local_import.typer, "confirm", lambda text, **kw: asked.append(text) or True)
    summary = import_locally(settings, parsed(CHAT, "WhatsApp Chat with Lin.txt"), "Asia/Taipei",
                             interactive=True, clock=clock)
    assert asked[:2] == ["Which participant is you?", "Customer"] and asked[2].startswith("Schedule ")
    assert (summary["me"], summary["customer"], summary["added"], summary["scheduled"]) == ("王大明", "Lin", 4, 1)
    with session_scope(engine) as session:
        follow_up = session.exec(select(FollowUp)).one()
        lin = session.exec(select(Customer).where(Customer.name == "Lin")).one()
        assert (follow_up.customer_id, follow_up.source_interaction_id) == (lin.id, summary["interaction_id"])
        mine = session.exec(select(ConversationMessage.sender).where(ConversationMessage.from_member)).all()
    assert set(mine) == {"王大明"}


def test_import_chat_asks_on_a_real_terminal(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from bot.cli import build_app

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    export = tmp_path / "WhatsApp Chat with Lin.txt"
    export.write_text(CHAT, encoding="utf-8")
    # which participant is you: 9 (none such: asked again), 2 (王大明); customer: 0 (new, "Lin"); any proposal: no
    result = CliRunner().invoke(build_app(), ["import-chat", str(export), "--tz", "Asia/Taipei"],
                                input="9\n2\n0\nn\nn\n")
    assert result.exit_code == 0, result.output
    assert "Which participant is you?" in result.output and "Which customer is this chat with?" in result.output
    assert "type a number from 0 to 2" in result.output
    assert "Imported 4 messages (0 already there) onto Lin;" in result.output
    again = CliRunner().invoke(build_app(), ["import-chat", str(export), "--json"])
    summary = json.loads(again.stdout)
    assert (summary["added"], summary["duplicates"], summary["customer"]) == (0, 4, "Lin")
    ambiguous = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "whatsapp_ambiguous.txt"), "--tz",
                                                 "UTC"], input="x\nd\n1\n0\nn\nn\n")
    assert ambiguous.exit_code == 0, ambiguous.output
    assert "type d or m" in ambiguous.output and "Imported 2 messages (0 already there) onto Bob Chen;" in ambiguous.output


# -- issue 14 ----------------------------------------------------------------------------------------
def test_the_members_side_on_a_chat_with_system_lines(engine, clock):
    actor = owner(engine)
    view = import_chat(engine, actor, clock, parsed((SAMPLES / "whatsapp_android_zh_cn_system.txt").read_bytes()))
    assert view.asks_which_is_you and view.participants == ("刘经理", "张伟") and view.messages == 7
    answered, _ = run(engine, lambda uow: chat_imports.set_member_side(uow, actor, view.interaction_id or 0, "张伟"))
    assert answered is not None and answered.me == "张伟" and answered.mention == "刘经理"
    with session_scope(engine) as session:
        rows = session.exec(select(ConversationMessage.sender, ConversationMessage.from_member)).all()
    assert sorted((s or "", f) for s, f in rows) == [("", False)] * 3 + [("刘经理", False)] * 2 + [("张伟", True)] * 2


def test_an_account_export_is_a_choice_and_each_chat_its_own_conversation(engine, clock):
    actor = owner(engine)
    data = (SAMPLES / "telegram_account_multi.json").read_bytes()
    choice = chat_imports.read_export(data, zone=TAIPEI, file_name="result.json")
    assert isinstance(choice, chat_imports.ChatChoice)
    assert [c.name for c in choice.chats] == ["Saved Messages", "刘经理 (华通贸易)", "华通价格更新", "Acme Sourcing"]
    missing = chat_imports.read_export(data, zone=TAIPEI, file_name="result.json", chat="王先生")
    assert isinstance(missing, Unreadable) and missing.code == "no_such_chat" and not missing.not_an_export
    every = chat_imports.read_every_chat(data, zone=TAIPEI, file_name="result.json")
    assert isinstance(every, tuple) and len(every) == 4
    views, _ = run(engine, lambda uow: chat_imports.import_conversations(uow, actor, clock.now(), every))
    assert [(v.messages, v.mention, v.me) for v in views] == [
        (1, None, "张伟"), (4, "刘经理 (华通贸易)", "张伟"), (3, "华通价格更新", None), (3, "Acme Sourcing", "张伟")]
    assert not any(v.asks_which_is_you for v in views)  # the account's owner is the member
    assert len({v.interaction_id for v in views}) == 4


def test_a_parked_account_export_imports_every_chat_and_goes_after_the_commit(engine, clock, tmp_path):
    spool_dir = tmp_path / "spool"
    actor = owner(engine)
    data = (SAMPLES / "telegram_account_multi.json").read_bytes()
    spooled = spool.take(spool_dir, actor, spool.park(spool_dir, actor, data, "result.json"))
    assert spooled is not None
    every = chat_imports.read_every_chat(spooled.data, zone=TAIPEI, file_name=spooled.file_name)
    views, events = run(engine, lambda uow: spool.resume_all(uow, actor, clock.now(), spooled, every))
    assert isinstance(views, tuple) and sum(v.messages for v in views) == 11
    assert events == [SpooledFileDone(spooled.path)]


def test_an_unzipped_export_folder_reads_as_its_file(tmp_path):
    found = chat_imports.read_folder(SAMPLES / "slack_export_zh_hans")
    assert isinstance(found, tuple) and parsed(found[0], found[1]).format == "slack"
    empty = chat_imports.read_folder(tmp_path)
    assert isinstance(empty, Unreadable) and empty.code == "unknown_format"


def test_a_memotrace_csv_tells_the_members_side_by_its_own_rows(engine, clock):
    actor = owner(engine)
    view = import_chat(engine, actor, clock, parsed((SAMPLES / "wechat_memotrace_named.csv").read_bytes()))
    assert view.me == "张伟" and view.mention == "刘经理" and not view.asks_which_is_you
    with session_scope(engine) as session:
        mine = session.exec(select(ConversationMessage.text).where(ConversationMessage.from_member)).all()
    assert sorted(mine) == ["Samples ship next Monday", "收到,下周三前回复您"]


def test_wechat_quotes_are_stored_apart_from_the_text(engine, clock):
    actor = owner(engine)
    view = import_chat(engine, actor, clock, parsed((SAMPLES / "wechat_memotrace_quote_zh_hant.txt").read_bytes()))
    with session_scope(engine) as session:
        record = session.get(Interaction, view.interaction_id)
        texts = dict(session.exec(select(ConversationMessage.dedup_key, ConversationMessage.text)).all())
    quotes = record.details["quoted"]
    assert {texts[key]: quote for key, quote in quotes.items()} == {
        "收到,我們下週五前確認": "陳小姐：王總您好,A100 一百件的報價單已寄出", "好的,謝謝": "王大明：收到,我們下週五前確認"}
    assert not any("「" in text and "：" in text for text in texts.values())
