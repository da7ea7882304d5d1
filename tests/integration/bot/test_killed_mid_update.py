"""One update, one transaction: a process killed (SIGKILL) after the note is written but before its commit leaves
nothing of it; after a restart the inbox row is taken again and the note stored once (issue 17, on both databases).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, select

from core.models import InboxItem, Interaction
from core.services import inbox, teams

ROOT = Path(__file__).resolve().parents[3]
CHILD = textwrap.dedent('''
    import asyncio, os, signal, sys
    from datetime import UTC, datetime
    from bot.bootstrap import build
    from core.chat import ChatRef, Envelope, Sender, TextIn
    from core.services import inbox, outbox
    from core.settings import load_settings

    url, mode = sys.argv[1], sys.argv[2]
    app = build(load_settings(None, database_url=url, default_language="en"))
    original_store = outbox.store

    def dying(session, *args, **kwargs):
        rows = original_store(session, *args, **kwargs)  # the replies go into the outbox last, before the commit
        session.flush()  # every effect of the update is written, only the commit is missing
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return rows

    outbox.store = dying

    async def main():
        await app.start(with_scheduler=False)
        box = app.open_inbox("child")
        (claim,) = await box.claim(1)
        p = claim.payload
        note = TextIn(Envelope(ChatRef("telegram", "42"), Sender("42", "Amy"), p["message_id"],
                               datetime.now(UTC), update_id=p["update_id"]), p["text"])
        with inbox.processing(claim):
            replies = await app.handle(note)
        await box.finish(claim.id)
        print("REPLY", replies[0].text)

    asyncio.run(main())
''')


def child(url: str, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, url, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_killed_before_the_commit_leaves_nothing_and_the_note_is_stored_once_after_restart(engine):
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
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 0  # nothing half-written
        row = session.exec(select(InboxItem)).one()
        assert (row.status, row.attempts) == ("processing", 1)  # still claimed by the dead process
        session.execute(update(InboxItem).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))  # lease out
        session.commit()

    restarted = child(url, "ok")
    assert restarted.returncode == 0, restarted.stderr
    assert "REPLY" in restarted.stdout and "12 units" in restarted.stdout
    with Session(engine) as session:
        notes = session.exec(select(Interaction)).all()
        assert [n.text for n in notes] == ["Visited Acme, wants 12 units"]
        row = session.exec(select(InboxItem)).one()
        assert (row.status, row.attempts) == ("done", 2)
