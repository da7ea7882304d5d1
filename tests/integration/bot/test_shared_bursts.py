"""A forwarded burst whose messages reach different processes (two apps, each with its own engine, timers
and messenger, on one database): one record, one summary; awaited answers hold across them too."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.bootstrap import build
from core.chat import ChatRef, ForwardOrigin
from core.db import make_engine, session_scope
from core.models import ConversationMessage, Interaction
from core.settings import load_settings
from core.uow import unit_of_work
from core.usecases.forwards import ForwardedMessage, append_forward
from tests.conversation import Chat, RecordingMessenger
from tests.integration.bot.test_conversation import settled


@pytest.fixture
def two_apps(engine, clock, tmp_path):
    settings = load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                             forward_batch_seconds=1.0, import_spool_dir=str(tmp_path / "spool"))
    second = make_engine(engine.url.render_as_string(hide_password=False))
    apps = [build(settings, clock=clock, engine=engine), build(settings, clock=clock, engine=second)]
    for app in apps:
        app.attach(RecordingMessenger("test"))
    yield apps
    second.dispose()


def forwarded(engine) -> list[Interaction]:
    with session_scope(engine) as session:
        return list(session.exec(select(Interaction).where(Interaction.kind == "forwarded")))


async def test_a_burst_split_across_two_processes_is_one_record_with_one_summary(engine, clock, two_apps):
    first, second = (Chat(app, "owner", "Amy Lin", "en") for app in two_apps)
    await first.say("/start")
    await first.say("Visited Acme, Mr. Lee wants a quote")
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await first.forward("Can you send the price list?", origin)
    clock.advance(seconds=0.5)  # the second message extends the burst, through the other process
    await second.forward("And delivery by Dec 3", origin)
    await first.forward("Thanks!", origin)
    await settled()  # every process's timer has fired (the first one waited for the extended end)
    records = forwarded(engine)
    assert len(records) == 1 and "price list" in records[0].text and "Dec 3" in records[0].text
    summaries = [reply for app in two_apps for _, reply in app.messengers["test"].sent]
    assert len(summaries) == 1 and "3 forwarded" in summaries[0].text


async def test_an_answer_awaited_by_one_process_is_taken_by_another(engine, clock, two_apps):
    first, second = (Chat(app, "owner", "Amy Lin", "en") for app in two_apps)
    await first.say("/start")
    await first.say("Visited Acme, Mr. Lee wants a quote, follow up Friday")
    replies = await first.press("Change date", first.last[0])
    replies = await first.press("Type a date", replies[0])
    assert "When should I remind you" in replies[0].text
    assert "couldn't read" in (await second.say("blah blah"))[0].text  # the other process knows what is awaited
    replies = await first.say("tomorrow 3pm")
    assert "Tomorrow 15:00" in replies[0].text


@pytest.mark.postgres
def test_two_processes_appending_to_one_burst_at_once_make_one_record(engine, clock):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: appends never overlap")
    from tests.integration.usecases.test_notes import founder

    amy = founder(engine)
    engines = [engine, make_engine(engine.url.render_as_string(hide_password=False))]
    chat = ChatRef("telegram", "100")
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def append(index: int) -> None:
        message = ForwardedMessage(chat, f"f{index}", origin, clock.now(), f"line {index}")
        try:
            with unit_of_work(engines[index]) as uow:
                barrier.wait()
                append_forward(uow, amy, clock.now(), message, window=timedelta(seconds=30))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engines[1].dispose()
    assert errors == []
    records = forwarded(engine)
    assert len(records) == 1
    with session_scope(engine) as session:
        assert len(session.exec(select(ConversationMessage).where(
            ConversationMessage.interaction_id == records[0].id)).all()) == 2

