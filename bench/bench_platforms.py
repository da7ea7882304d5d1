"""Text updates handled end to end through the real libraries and the fake platform servers.

    .venv/bin/python bench/bench_platforms.py

Telegram (long polling, python-telegram-bot) and Slack (signed HTTP events, slack-bolt), each on a
fresh SQLite database: N notes from M members sent at once (throughput: notes whose reply request
reached the fake server per second), then one at a time (latency: update sent → reply request seen).
"""

from __future__ import annotations

import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bootstrap import build
from bot.platforms import slack_adapter, telegram_adapter
from core.settings import load_settings
from tests.fakes import slack_api, telegram_api

NOTES, MEMBERS, LATENCY_SAMPLES = 1000, 20, 200
TEXTS = ["拜訪大同五金王總,要A100一百件報價,下週三前回覆", "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday",
         "打電話給永豐電子陳小姐,月結30天OK,明天下午3點再確認", "拜访华兴机械李老板,要B200五百个的报价,后天回复"]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def wait_count(calls, method: str, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for c in calls if c.method == method) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{method}: {sum(1 for c in calls if c.method == method)}/{n}")
        await asyncio.sleep(0.002)


async def telegram(folder: str, rate: float) -> str:
    fake = await telegram_api.FakeTelegram().start()
    settings = load_settings("/nonexistent.toml", database_url=f"sqlite:///{folder}/tg{rate:g}.db",
                             telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
                             telegram_file_base_url=fake.file_url, telegram_poll_timeout=0.5, default_language="en",
                             telegram_max_messages_per_second=rate)
    app = build(settings)
    adapter = telegram_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    fake.inject(telegram_api.message("/start"))
    await wait_count(fake.calls, "sendMessage", 1)
    fake.inject(telegram_api.message("/invite"))
    await wait_count(fake.calls, "sendMessage", 2)
    sent = 2
    for member in range(1, MEMBERS):
        fake.inject(telegram_api.message("/invite"))
        sent += 1
        await wait_count(fake.calls, "sendMessage", sent)
        code = fake.sent("sendMessage")[-1].body["text"].split("<code>")[1].split("</code>")[0]
        fake.inject(telegram_api.message(f"/start {code}", chat_id=1000 + member, sender=telegram_api.user(1000 + member)))
        sent += 1
        await wait_count(fake.calls, "sendMessage", sent)
    chats = [42] + [1000 + m for m in range(1, MEMBERS)]
    started = time.monotonic()
    for i in range(NOTES):
        chat = chats[i % len(chats)]
        fake.inject(telegram_api.message(TEXTS[i % len(TEXTS)], chat_id=chat, sender=telegram_api.user(chat)))
    await wait_count(fake.calls, "sendMessage", sent + NOTES)
    rate_seen = NOTES / (time.monotonic() - started)
    sent += NOTES
    latencies = []
    for i in range(LATENCY_SAMPLES):
        t0 = time.monotonic()
        fake.inject(telegram_api.message(TEXTS[i % len(TEXTS)]))
        sent += 1
        await wait_count(fake.calls, "sendMessage", sent)
        latencies.append(fake.sent("sendMessage")[-1].at - t0)
    await adapter.stop()
    await app.stop()
    app.engine.dispose()
    await fake.stop()
    label = f"{rate:g}/s limit" if rate else "no send limit"
    return (f"telegram ({label:>14}): {rate_seen:6.0f} notes/s end to end ({NOTES} notes, {MEMBERS} chats); "
            f"update→sendMessage p50 {pct(latencies, .5):.1f} ms p99 {pct(latencies, .99):.1f} ms")


async def slack(folder: str) -> str:
    fake = await slack_api.FakeSlack().start()
    settings = load_settings("/nonexistent.toml", database_url=f"sqlite:///{folder}/slack.db",
                             slack_bot_token=slack_api.BOT_TOKEN, slack_signing_secret=slack_api.SIGNING_SECRET,
                             slack_api_url=fake.api_url, slack_http_host="127.0.0.1", slack_http_port=0,
                             default_language="en")
    app = build(settings)
    adapter = slack_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    url = f"http://127.0.0.1:{adapter.port}/slack/events"
    await slack_api.event(url, slack_api.dm("start"))
    await wait_count(fake.calls, "chat.postMessage", 1)
    started = time.monotonic()
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with sem:
            await slack_api.event(url, slack_api.dm(TEXTS[i % len(TEXTS)]))

    await asyncio.gather(*(one(i) for i in range(NOTES)))
    await wait_count(fake.calls, "chat.postMessage", 1 + NOTES)
    rate_seen = NOTES / (time.monotonic() - started)
    latencies = []
    posted = 1 + NOTES
    for i in range(LATENCY_SAMPLES):
        t0 = time.monotonic()
        await slack_api.event(url, slack_api.dm(TEXTS[i % len(TEXTS)]))
        posted += 1
        await wait_count(fake.calls, "chat.postMessage", posted)
        latencies.append(time.monotonic() - t0)
    await adapter.stop()
    await app.stop()
    app.engine.dispose()
    await fake.stop()
    return (f"slack (HTTP mode)          : {rate_seen:6.0f} events/s end to end ({NOTES} signed events); "
            f"event→chat.postMessage p50 {pct(latencies, .5):.1f} ms p99 {pct(latencies, .99):.1f} ms "
            f"(upper bound: includes polling the fake's call log every 2 ms)")


async def main() -> None:
    print(f"machine: {platform.machine()}, {psutil.cpu_count()} cpus, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        print(await telegram(folder, 30.0))
        print(await telegram(folder, 0.0))
        print(await slack(folder))


if __name__ == "__main__":
    asyncio.run(main())
