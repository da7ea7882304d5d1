"""Issue 17: 2 webhook receivers + 4 workers, real `chatcrm run --role …` processes on one PostgreSQL database,
against a fake Bot API that holds Telegram's limits (30 in any second, 1 s per chat, 429 beyond), with updates
spread round-robin over the receivers: every note stored once, 0 duplicate customers, 0 Conflicts, 0 429s, each
forwarded burst one record with one summary though its messages reached different receivers and workers; the
combined send rate is printed (a figure for bench/RESULTS.md, not an assertion)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.models import ConversationMessage, Customer, InboxItem, Interaction
from core.services import teams
from tests.conftest import drop_postgres, fresh_postgres
from tests.fakes.telegram_api import FakeTelegram, message, user
from tests.waiting import until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CHATS, NOTES = int(os.environ.get("LIMITS_CHATS", 40)), int(os.environ.get("LIMITS_NOTES_PER_CHAT", 8))
SECRET = "s3cret-token-for-tests"
ROOT = Path(__file__).resolve().parents[3]
FIRST_USER = 1001
BURSTS = min(CHATS, 10)  # chats that also forward a customer's three messages, one by one
BURST = ("Can you send the price list?", "Also 200 units by Dec 3", "Thanks!")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(fake: FakeTelegram, url: str, tmp_path: Path, log, role: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_FILE_BASE_URL": fake.file_url,
           "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/tg-hook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1", "TELEGRAM_WEBHOOK_PORT": str(port),
           "DEFAULT_LANGUAGE": "en", "LOG_LEVEL": os.environ.get("LIMITS_LOG_LEVEL", "WARNING"),
           "WHISPER_PRELOAD": "false", "PYTHONPATH": str(ROOT)}  # no speech model: no voice notes here
    return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "run", "--role", role],
                            cwd=tmp_path, env=env, stdout=log, stderr=log)


def timeline(fake: FakeTelegram) -> None:
    """LIMITS_DEBUG=1: every message call, with its time, chat, status and text."""
    if os.environ.get("LIMITS_DEBUG"):
        start = fake.calls[0].at
        for c in fake.calls:
            if c.method not in ("setWebhook", "getMe", "setMyCommands", "deleteWebhook"):
                print(f"{c.at - start:8.3f} {c.method} {c.body.get('chat_id')} {c.status} {str(c.body.get('text'))[:40]!r}")


async def deliver(session: aiohttp.ClientSession, hook: str, update: dict, timeout: float = 60) -> None:
    """POST the update as Telegram would, again until the receiver answers 200 (it stored the update)."""
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with session.post(hook, data=json.dumps(update), headers=headers) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"{hook} did not take update {update['update_id']}")
        await asyncio.sleep(0.2)


async def test_two_receivers_and_four_workers_keep_telegrams_limits_together(postgres_template, tmp_path):
    engine, name = fresh_postgres(postgres_template)
    url = engine.url.render_as_string(hide_password=False)
    users = list(range(FIRST_USER, FIRST_USER + CHATS))
    with Session(engine) as session:
        for uid in users:  # each salesperson founds a team: their notes are their own team's
            teams.found_team(session, teams.Newcomer("telegram", str(uid), str(uid), f"Rep {uid}"), open_signup=True)
        session.commit()
    fake = await FakeTelegram(enforce_limits=True).start()
    log = (tmp_path / "bots.log").open("w")
    ports = [free_port(), free_port()]
    processes = [start(fake, url, tmp_path, log, "receiver", port) for port in ports]
    processes += [start(fake, url, tmp_path, log, "worker", free_port()) for _ in range(4)]
    hooks = [f"http://127.0.0.1:{port}/tg-hook" for port in ports]
    total = CHATS * NOTES
    try:
        async with aiohttp.ClientSession() as http:
            for k, hook in enumerate(hooks):  # both receivers listening before the burst starts
                await deliver(http, hook, {"update_id": k + 1, **message("/help", chat_id=users[k],
                                                                          sender=user(users[k]))})
            update_id = 100
            for n in range(NOTES):  # every chat's note n, then n + 1: all chats busy at once
                posts = []
                for i, uid in enumerate(users):
                    update_id += 1
                    note = message(f"Visited Acme, order {n}: wants {n + 1} units", chat_id=uid,
                                   sender=user(uid, first="Rep", last=str(uid)))
                    posts.append(deliver(http, hooks[(n * CHATS + i) % 2], {"update_id": update_id, **note}))
                await asyncio.gather(*posts)
            for j, text in enumerate(BURST):  # then forwarded bursts, each message through the other receiver
                posts = []
                for i, uid in enumerate(users[:BURSTS]):
                    update_id += 1
                    origin = {"type": "user", "date": 1763430000 + j,
                              "sender_user": {"id": 9000 + i, "is_bot": False, "first_name": "Lee"}}
                    forward = message(text, chat_id=uid, sender=user(uid, first="Rep", last=str(uid)),
                                      forward_origin=origin)
                    posts.append(deliver(http, hooks[(i + j) % 2], {"update_id": update_id, **forward}))
                await asyncio.gather(*posts)

        def settled() -> bool:
            with Session(engine) as session:
                stored = session.exec(select(func.count()).select_from(Interaction)).one()
                left = session.exec(select(func.count()).select_from(InboxItem)
                                    .where(InboxItem.status != "done")).one()
            return stored >= total + BURSTS and not left and len(fake.sent("sendMessage")) >= total + 2 + BURSTS

        try:
            await until(settled, 120 + total, every=0.1)  # a loaded machine processes slowly; the limits are what is tested
        except AssertionError:
            timeline(fake)
            with Session(engine) as session:
                stored = session.exec(select(func.count()).select_from(Interaction)).one()
                states = session.exec(select(InboxItem.status, func.count()).group_by(InboxItem.status)).all()
            log.flush()
            raise AssertionError(f"not settled: {stored}/{total} stored, inbox {states}, "
                                 f"{len(fake.sent('sendMessage'))} sendMessage, {fake.rate_limited} 429s (overall {fake.overall_violations}, "
                                 f"per chat {fake.chat_violations}); log: "
                                 + (tmp_path / "bots.log").read_text()[-3000:]) from None
        for process in processes:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(process.poll() is None for process in processes):
            await asyncio.sleep(0.1)
        assert [process.poll() for process in processes] == [0] * len(processes)  # receivers, then workers
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        await fake.stop()
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Interaction)
                              .where(Interaction.kind != "forwarded")).one()
        customers = session.exec(select(Customer.team_id, func.count()).group_by(Customer.team_id)).all()
        bursts = session.exec(select(ConversationMessage.interaction_id, func.count())
                              .group_by(ConversationMessage.interaction_id)).all()
        forwarded = session.exec(select(func.count()).select_from(Interaction)
                                 .where(Interaction.kind == "forwarded")).one()
    engine.dispose()
    drop_postgres(name)
    sends = sorted(c.at for c in fake.sent("sendMessage") if c.status == 200)
    rate = (len(sends) - 1) / (sends[-1] - sends[0])
    print(f"{total} notes over {CHATS} chats, 2 receivers + 4 workers: {len(sends)} messages accepted at "
          f"{rate:.1f}/s ({rate / 30:.0%} of 30/s); 429s {fake.rate_limited} (overall {fake.overall_violations}, "
          f"per chat {fake.chat_violations})")
    timeline(fake)
    assert stored == total  # every note stored once
    # each burst, its messages processed by whichever workers took them, is one record of its 3 messages
    assert forwarded == BURSTS and sorted(count for _, count in bursts) == [len(BURST)] * BURSTS
    summaries = [c.body["text"] for c in fake.sent("sendMessage") if str(c.body.get("text")).startswith("📨")]
    assert len(summaries) == BURSTS and all(f"已將 {len(BURST)} 則" in text for text in summaries)  # zh-Hant members
    assert sorted(count for _, count in customers) == [1] * CHATS  # one Acme per team: no duplicate customer
    assert not [c for c in fake.calls if c.status == 409 or c.method == "getUpdates"]  # webhooks only: no Conflict
    assert (fake.rate_limited, fake.overall_violations, fake.chat_violations) == (0, 0, 0)
