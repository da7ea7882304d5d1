"""core.usecases.team on SQLite and PostgreSQL: /start founds or joins, invites, language, the console owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from core.models import AuditEvent, ChatIdentity, Invite, Member, Role
from core.services.errors import InvalidInput, NotAllowed
from core.services.teams import INVITE_DAYS
from core.uow import unit_of_work
from core.usecases import team
from core.usecases.team import Newcomer, StartOutcome

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def newcomer(user: str, name: str, **extra) -> Newcomer:
    return Newcomer("test", user, f"dm{user}", name, **extra)


def found(engine, name: str = "Amy") -> team.StartResult:
    with unit_of_work(engine) as uow:
        return team.start(uow, None, NOW, newcomer("1", name, language="en"))


def invite_code(engine, actor, role: str = Role.sales.value) -> str:
    with unit_of_work(engine) as uow:
        return team.create_invite(uow, actor, NOW, role).code


def test_the_first_start_founds_the_team_and_a_second_start_says_already(engine):
    founded = found(engine)
    assert founded.outcome is StartOutcome.FOUNDED and founded.enrolled
    assert founded.actor is not None and founded.actor.role == Role.owner.value
    assert founded.actor.name == "Amy" and founded.actor.language == "en"
    assert founded.team_name == "Amy's team"
    with unit_of_work(engine) as uow:
        again = team.start(uow, founded.actor, NOW, newcomer("1", "Amy"))
        assert again.outcome is StartOutcome.ALREADY_MEMBER and not again.enrolled
        assert again.actor == founded.actor and again.team_name == "Amy's team"
        assert len(uow.session.exec(select(Member)).all()) == 1


def test_a_stranger_needs_an_invite_and_a_bad_code_is_refused_without_storing(engine):
    found(engine)
    with unit_of_work(engine) as uow:
        assert team.start(uow, None, NOW, newcomer("2", "Bob")).outcome is StartOutcome.NEED_INVITE
        assert team.start(uow, None, NOW, newcomer("2", "Bob"), code="NOPE1234").outcome is StartOutcome.BAD_INVITE
        assert team.start(uow, None, NOW, newcomer("2", "Bob"), code="x",
                          in_group=True).outcome is StartOutcome.GROUP_REFUSED
    with unit_of_work(engine) as uow:
        assert [m.name for m in uow.session.exec(select(Member))] == ["Amy"]


def test_joining_with_an_invite_uses_it_once_and_takes_its_role(engine):
    owner = found(engine).actor
    assert owner is not None
    code = invite_code(engine, owner, team.invite_role("經理"))
    with unit_of_work(engine) as uow:
        joined = team.start(uow, None, NOW, newcomer("2", "Bob"), code=f" {code.lower()} extra words")
    assert joined.outcome is StartOutcome.JOINED and joined.team_name == "Amy's team"
    assert joined.actor is not None and joined.actor.role == Role.manager.value
    assert joined.actor.team_id == owner.team_id
    with unit_of_work(engine) as uow:
        used = uow.session.exec(select(Invite).where(Invite.code == code)).one()
        assert used.used_by == joined.actor.member_id and used.used_at is not None
        again = team.start(uow, None, NOW, newcomer("3", "Cat"), code=code)
        assert again.outcome is StartOutcome.BAD_INVITE


def test_an_expired_invite_is_refused(engine):
    owner = found(engine).actor
    assert owner is not None
    code = invite_code(engine, owner)
    with unit_of_work(engine) as uow:
        late = team.start(uow, None, NOW + timedelta(days=INVITE_DAYS), newcomer("2", "Bob"), code=code)
    assert late.outcome is StartOutcome.BAD_INVITE


def test_only_owners_and_managers_invite_and_the_invite_is_audited(engine):
    owner = found(engine).actor
    assert owner is not None
    with unit_of_work(engine) as uow:
        created = team.create_invite(uow, owner, NOW, team.invite_role("anything"))
    assert created.role == Role.sales.value and created.expires_at.replace(tzinfo=UTC) == NOW + timedelta(days=7)
    with unit_of_work(engine) as uow:
        sales = team.start(uow, None, NOW, newcomer("2", "Bob"), code=created.code).actor
    assert sales is not None
    with pytest.raises(NotAllowed), unit_of_work(engine) as uow:
        team.create_invite(uow, sales, NOW)
    with unit_of_work(engine) as uow:
        audited = uow.session.exec(select(AuditEvent).where(AuditEvent.entity == "invite")).all()
        assert [(event.action, event.actor_id) for event in audited] == [("create", owner.member_id)]


def test_set_language_returns_the_changed_member_and_refuses_unknown_languages(engine):
    owner = found(engine).actor
    assert owner is not None
    assert team.parse_language("繁體") == "zh-Hant" and team.parse_language("ZH-HANS") == "zh-Hans"
    assert team.parse_language("English") == "en" and team.parse_language("klingon") is None
    with unit_of_work(engine) as uow:
        changed = team.set_language(uow, owner, "zh-Hans")
    assert changed.language == "zh-Hans" and changed.member_id == owner.member_id
    with pytest.raises(InvalidInput), unit_of_work(engine) as uow:
        team.set_language(uow, owner, "fr")
    with unit_of_work(engine) as uow:
        assert uow.session.get(Member, owner.member_id).language == "zh-Hans"


def test_the_console_owner_founds_once_and_a_second_terminal_user_is_linked_to_the_owner(engine):
    with unit_of_work(engine) as uow:
        first = team.local_owner(uow, Newcomer("console", "local", "local", "Me"))
    assert first.role == Role.owner.value
    with unit_of_work(engine) as uow:
        assert team.local_owner(uow, Newcomer("console", "local", "local", "Me")) == first
        other = team.local_owner(uow, Newcomer("import", "cli", "cli", "Me too"))
    assert other.member_id == first.member_id
    with unit_of_work(engine) as uow:
        platforms = uow.session.exec(select(ChatIdentity.platform).order_by(col(ChatIdentity.id))).all()
        assert platforms == ["console", "import"]
        assert len(uow.session.exec(select(Member)).all()) == 1
