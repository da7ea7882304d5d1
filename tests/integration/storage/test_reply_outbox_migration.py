"""Migration 0020: an answer a member has not yet been told was lost (a pending `lost_reply` notice) becomes a
`lost` reply outbox row, still owned up to once; the way back restores the notice."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlmodel import Session, select

from core.db import alembic_config
from core.models import Notice
from core.services import outbox, teams


def test_pending_lost_reply_notices_become_lost_outbox_rows_and_come_back_on_downgrade(engine):
    config = alembic_config(engine)
    command.downgrade(config, "0019")
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with Session(engine) as session:
        member = teams.found_team(session, teams.Newcomer("telegram", "42", "42", "Amy"))
        assert member.id is not None
        for key, status in (("lost:telegram:m:42:7", "pending"), ("lost:telegram:m:42:8", "sent")):
            session.add(Notice(team_id=member.team_id, member_id=member.id, key=key, kind="lost_reply",
                               status=status, created_at=now))
        session.add(Notice(team_id=member.team_id, member_id=member.id, key="digest:2026-12-01", kind="digest",
                           created_at=now))
        session.commit()
        member_id, team_id = member.id, member.team_id
    command.upgrade(config, "0020")
    with Session(engine) as session:
        assert [n.kind for n in session.exec(select(Notice)).all()] == ["digest"]  # lost replies moved out
        assert outbox.take_lost(session, member_id, now) == 1  # the one not told yet, told once
        assert outbox.take_lost(session, member_id, now) == 0
        session.rollback()
    with Session(engine) as session:  # one lost after the upgrade goes back as a notice too
        assert outbox.record_lost(session, "telegram", "m:42:9", team_id=team_id, member_id=member_id, now=now)
        session.commit()
    command.downgrade(config, "0019")
    with Session(engine) as session:
        back = session.exec(select(Notice.key, Notice.kind, Notice.status).order_by(Notice.id)).all()
    assert sorted(back) == [("digest:2026-12-01", "digest", "pending"), ("lost:telegram:m:42:7", "lost_reply", "pending"),
                            ("lost:telegram:m:42:9", "lost_reply", "pending")]
    command.upgrade(config, "head")
