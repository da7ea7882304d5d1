"""A unit of work commits everything or nothing, also when its first write is inside a savepoint."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.db import session_scope
from core.models import Team
from core.uow import unit_of_work


class Boom(Exception):
    pass


def test_a_first_write_in_a_savepoint_is_rolled_back_with_the_unit(engine):
    with pytest.raises(Boom), unit_of_work(engine) as uow:
        with uow.session.begin_nested():
            uow.session.add(Team(name="Savepoint Ltd"))
            uow.session.flush()
        raise Boom
    with session_scope(engine) as session:
        assert session.exec(select(Team).where(Team.name == "Savepoint Ltd")).all() == []


def test_a_first_write_in_a_savepoint_is_committed_with_the_unit(engine):
    with unit_of_work(engine) as uow:
        with uow.session.begin_nested():
            uow.session.add(Team(name="Savepoint Ltd"))
        uow.session.add(Team(name="Outer Ltd"))
    with session_scope(engine) as session:
        names = {team.name for team in session.exec(select(Team))}
    assert {"Savepoint Ltd", "Outer Ltd"} <= names
