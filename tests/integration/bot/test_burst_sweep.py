"""A forwarded burst whose summary timer died with its process still gets its summary, once, from the sweep
(a periodic job that also runs at start); a burst still open, or one this process's own timer will end, is left
to its timer; two processes sweeping at once send one summary."""

from __future__ import annotations

import asyncio

import pytest

from bot import periodic
from bot.bootstrap import build
from core.chat import ForwardOrigin
from core.db import make_engine
from core.settings import load_settings
from tests.conversation import Chat, RecordingMessenger
from tests.integration.bot.test_conversation import settled


def sweep_job(app):
    [job] = [job for job in periodic.jobs(app) if job.name == "forward-sweep"]
    return job


def summaries(app) -> list[str]:
    return [reply.text for _, reply in app.messengers["test"].sent if "forwarded" in reply.text]


async def died_mid_burst(app, clock) -> Chat:
    """Amy forwards two messages; then the process dies before its summary timer fires."""
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    await amy.say("Visited Acme, Mr. Lee wants a quote")
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await amy.forward("Can you send the price list?", origin)
    await amy.forward("And delivery by Dec 3", origin)
    app.forward_summaries.cancel_all()  # the process holding the timer is gone
    await settled()
    assert summaries(app) == []
    return amy


async def test_a_burst_whose_timer_died_gets_its_summary_from_the_sweep_once(app, clock):
    await died_mid_burst(app, clock)
    job = sweep_job(app)
    clock.advance(seconds=5)  # over, but a live timer could still be about to send it: not the sweep's yet
    assert await job.run(clock.now()) == 0
    clock.advance(seconds=60)
    assert await job.run(clock.now()) == 1
    [summary] = summaries(app)
    assert "2 forwarded" in summary
    assert await job.run(clock.now()) == 0  # claimed: never sent again
    assert len(summaries(app)) == 1


async def test_an_open_burst_and_one_with_a_live_timer_are_left_to_the_timer(app, clock):
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await amy.forward("Can you send the price list?", origin)
    assert await sweep_job(app).run(clock.now()) == 0  # still open
    clock.advance(seconds=120)
    assert await sweep_job(app).run(clock.now()) == 0  # over, but this process's own timer will look
    await settled()
    assert len(summaries(app)) == 1  # the timer sent it
    assert await sweep_job(app).run(clock.now()) == 0


@pytest.fixture
def restarted(engine, clock, tmp_path):
    """Two fresh processes on the same database (the bot restarted, as two workers)."""
    settings = load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                             forward_batch_seconds=0.05, import_spool_dir=str(tmp_path / "spool"))
    second = make_engine(engine.url.render_as_string(hide_password=False))
    apps = [build(settings, clock=clock, engine=engine), build(settings, clock=clock, engine=second)]
    for each in apps:
        each.attach(RecordingMessenger("test"))
    yield apps
    second.dispose()


async def test_two_processes_sweeping_at_once_send_one_summary(app, clock, restarted):
    await died_mid_burst(app, clock)
    clock.advance(seconds=60)
    sent = await asyncio.gather(*(sweep_job(each).run(clock.now()) for each in restarted))
    assert sorted(sent) == [0, 1]
    assert sum(len(summaries(each)) for each in restarted) == 1


async def test_the_sweep_runs_when_the_bot_starts(app, clock, restarted):
    await died_mid_burst(app, clock)
    clock.advance(seconds=60)
    fresh = restarted[0]
    await fresh.start()
    try:
        for _ in range(200):  # the scheduler's first run of every periodic job is at start
            if summaries(fresh):
                break
            await asyncio.sleep(0.02)
    finally:
        await fresh.stop()
    assert len(summaries(fresh)) == 1 and "2 forwarded" in summaries(fresh)[0]


async def test_a_forward_arriving_while_the_timer_claims_does_not_lose_the_summary(app, clock):
    """The timer is in the middle of its claim (a database call in a thread) when the next forward restarts it:
    cancelling it then would drop the summary it claimed. It is left to finish: one summary, both messages."""
    import threading

    from tests.waiting import until

    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    entered, gate = threading.Event(), threading.Event()
    claim = app.forward_summaries._end

    def slow_claim(event, due):
        entered.set()
        gate.wait(10)
        return claim(event, due)

    app.forward_summaries._end = slow_claim
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await amy.forward("Can you send the price list?", origin)
    await until(entered.is_set, 10)  # the first timer is claiming
    await amy.forward("And delivery by Dec 3", origin)  # joins the burst; its timer starts again
    gate.set()
    await settled()
    found = summaries(app)
    assert len(found) == 1 and "2 forwarded" in found[0]
