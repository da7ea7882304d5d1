"""The reply outbox (issue 17) on SQLite and PostgreSQL: an inbox update's replies are stored in its transaction,
marked sent one by one, and the ones still pending are sent when the update is taken again after its effects
committed (instead of "already saved"); a reply whose retries were spent is told at the next message."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, select

from core.chat import Button, OutFile, Reply, TextIn
from core.models import InboxItem, Interaction, ReplyOutbox
from core.services import inbox, outbox, teams

ROOT = Path(__file__).resolve().parents[3]


def stored_claim(engine, now, key: str = "u:1", *, worker: str = "w1", later: float = 0.0) -> inbox.Claim:
    """An inbox row for `key` (stored once) claimed by `worker` at `now + later` seconds."""
    with Session(engine) as session:
        inbox.store(session, "test", [(key, "test:dm-owner", {})], now)
        session.commit()
        claims = inbox.claim(session, worker, now + timedelta(seconds=later))
        session.commit()
    (claim,) = [c for c in claims if c.key == key]
    return claim


async def handled(app, claim: inbox.Claim, incoming) -> list[Reply]:
    with inbox.processing(claim):
        return await app.handle(incoming)


def rows(engine) -> list[ReplyOutbox]:
    with Session(engine) as session:
        return list(session.exec(select(ReplyOutbox).order_by(ReplyOutbox.id)).all())


def test_a_reply_is_stored_as_it_was_rendered_and_read_back_the_same():
    reply = Reply("<b>Acme</b> 📦", buttons=((Button("✅ Done", "crm:d:1"), Button("⏰", "crm:s:1")),),
                  image=OutFile("chart.png", b"\x89PNG\x00\xff", "image/png"), edit=True, notice="ok", private=True,
                  private_unreachable="open the bot", extra={"command_menu": "zh-Hant", "status": True})
    encoded, data = outbox.encode(reply)
    assert data == b"\x89PNG\x00\xff"
    again = outbox.decode(encoded, data)
    assert again == reply and again.extra == reply.extra
    document = Reply("export", file=OutFile("export.zip", b"PK\x03\x04"))
    assert outbox.decode(*outbox.encode(document)) == document


async def test_an_inbox_update_answer_is_held_in_the_outbox_until_sent(app, owner, engine):
    now = app.clock.now()
    claim = stored_claim(engine, now)
    note = TextIn(owner.envelope(update_id="1"), "Visited Acme, wants 12 units")
    replies = await handled(app, claim, note)
    assert "12 units" in replies[0].text
    [row] = rows(engine)
    assert (row.status, row.member_id is not None) == ("pending", True)
    assert outbox.decode(row.reply or {}, row.data).text == replies[0].text
    with Session(engine) as session:  # claimed until the replies are sent; the worker finishes it then
        assert session.get(InboxItem, claim.id).status == "processing"
    receipt = outbox.receipt_of(replies[0])
    assert receipt is not None
    await receipt.sent()
    [row] = rows(engine)
    assert (row.status, row.reply, row.data) == ("sent", None, None) and row.sent_at is not None


async def test_a_worker_killed_after_the_commit_has_its_reply_sent_by_the_next_attempt(app, owner, engine):
    now = app.clock.now()
    note = TextIn(owner.envelope(update_id="1"), "Visited Acme, wants 12 units")
    first = await handled(app, stored_claim(engine, now), note)  # ...and the process dies before sending
    again = await handled(app, stored_claim(engine, now, worker="w2", later=11), note)  # the lease ran out
    assert [r.text for r in again] == [r.text for r in first]  # the card itself, not "already saved"
    assert "already saved" not in again[0].text
    receipt = outbox.receipt_of(again[0])
    assert receipt is not None
    await receipt.sent()
    third = await handled(app, stored_claim(engine, now, worker="w3", later=22), note)
    assert third == []  # every reply went out: nothing to say, nothing done twice
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 1


async def test_only_the_replies_still_pending_are_sent_again(app, owner, engine):
    earlier = TextIn(owner.envelope(), "Called Globex about the invoice")
    await app.undelivered(earlier, await owner.send(earlier))  # so the next answer has two replies
    now = app.clock.now()
    note = TextIn(owner.envelope(update_id="1"), "Visited Acme, wants 12 units")
    first = await handled(app, stored_claim(engine, now), note)
    assert "did not reach you" in first[0].text and "12 units" in first[1].text
    pending = [row for row in rows(engine) if row.status == "pending"]
    assert len(pending) == 2
    with Session(engine) as session:  # as if the first reply had gone out just before the kill
        outbox.mark_sent(session, [pending[0].id or 0], now)
        session.commit()
    again = await handled(app, stored_claim(engine, now, worker="w2", later=11), note)
    assert [r.text for r in again] == [first[1].text]


async def test_a_lost_stored_reply_is_owned_up_to_once_at_the_next_message(app, owner, engine):
    now = app.clock.now()
    note = TextIn(owner.envelope(update_id="1"), "Visited Acme, wants 12 units")
    replies = await handled(app, stored_claim(engine, now), note)
    await app.undelivered(note, replies)
    await app.undelivered(note, replies)  # reported twice: one lost answer
    assert {row.status for row in rows(engine)} == {"lost"}
    again = await handled(app, stored_claim(engine, now, worker="w2", later=11), note)
    assert again == []  # a lost reply is not retried: it is owned up to instead
    answer = await owner.say("/help")
    assert "1 earlier answer of mine did not reach you" in answer[0].text
    assert {row.status for row in rows(engine)} == {"told"}
    assert all("did not reach you" not in r.text for r in await owner.say("/help"))


async def test_a_stranger_s_answer_is_in_the_outbox_too(app, engine):
    now = app.clock.now()
    from tests.conversation import Chat

    stranger = Chat(app, "stranger", "Bob", language="en")
    hello = TextIn(stranger.envelope(update_id="1"), "hello, how do I join?")
    first = await handled(app, stored_claim(engine, now), hello)
    again = await handled(app, stored_claim(engine, now, worker="w2", later=11), hello)
    assert [r.text for r in again] == [r.text for r in first] and rows(engine)[0].member_id is None


CHILD = textwrap.dedent('''
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from bot.bootstrap import build
    from core.chat import ChatRef, Envelope, Sender, TextIn
    from core.services import inbox, outbox
    from core.settings import load_settings

    url, mode = sys.argv[1], sys.argv[2]
    app = build(load_settings(None, database_url=url, default_language="en"))

    async def main():
        await app.start(with_scheduler=False)
        box = app.open_inbox("child")
        (claim,) = await box.claim(1)
        p = claim.payload
        note = TextIn(Envelope(ChatRef("telegram", "42"), Sender("42", "Amy"), p["message_id"],
                               datetime.now(UTC), update_id=p["update_id"]), p["text"])
        with inbox.processing(claim):
            replies = await app.handle(note)
        if mode == "kill":  # committed; killed before the reply reaches the platform
            os.kill(os.getpid(), signal.SIGKILL)
        for reply in replies:
            print("REPLY", reply.text)
            await outbox.receipt_of(reply).sent()
        await box.finish(claim.id)

    asyncio.run(main())
''')


def child(url: str, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, url, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_a_reply_lost_to_a_sigkill_after_the_commit_is_sent_after_the_restart(engine):
    from datetime import UTC, datetime

    url = engine.url.render_as_string(hide_password=False)
    with Session(engine) as session:
        teams.found_team(session, teams.Newcomer("telegram", "42", "42", "Amy"))
        inbox.store(session, "telegram", [("u:7", "telegram:42", {"update_id": "7", "message_id": "900",
                                                                   "text": "Visited Acme, wants 12 units"})],
                    datetime.now(UTC))
        session.commit()

    killed = child(url, "kill")
    assert killed.returncode == -9, killed.stderr
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 1  # the note committed
        assert [row.status for row in session.exec(select(ReplyOutbox)).all()] == ["pending"]
        session.execute(update(InboxItem).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))  # lease out
        session.commit()

    restarted = child(url, "ok")
    assert restarted.returncode == 0, restarted.stderr
    assert "REPLY" in restarted.stdout and "12 units" in restarted.stdout and "already saved" not in restarted.stdout
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 1  # stored once
        assert [row.status for row in session.exec(select(ReplyOutbox)).all()] == ["sent"]
        row = session.exec(select(InboxItem)).one()
        assert (row.status, row.attempts) == ("done", 2)
