"""core.usecases.preferences on SQLite and PostgreSQL: the settings view and each change from typed words."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlmodel import select

from core.models import AuditEvent, Member, Role
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed
from core.uow import unit_of_work
from core.usecases import preferences, team
from core.usecases.preferences import Refusal
from core.usecases.team import Newcomer

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def owner(engine) -> Actor:
    with unit_of_work(engine) as uow:
        actor = team.start(uow, None, NOW, Newcomer("test", "1", "dm1", "Amy")).actor
    assert actor is not None
    return actor


@pytest.fixture
def sales(engine, owner) -> Actor:
    with unit_of_work(engine) as uow:
        code = team.create_invite(uow, owner, NOW, Role.sales.value).code
        actor = team.start(uow, None, NOW, Newcomer("test", "2", "dm2", "Bob"), code=code).actor
    assert actor is not None
    return actor


def change(engine, actor: Actor, command, text: str) -> preferences.SettingResult:
    with unit_of_work(engine) as uow:
        return command(uow, actor, text)


def stored(engine, actor: Actor) -> preferences.MemberSettings:
    with unit_of_work(engine) as uow:
        return preferences.member_settings(uow, actor)


def test_a_new_member_has_the_default_settings(engine, sales):
    shown = stored(engine, sales)
    assert (shown.timezone, shown.country) == ("Asia/Taipei", "TW")
    assert (shown.work_start, shown.work_end, shown.work_days) == (time(9), time(18), "12345")
    assert shown.digest_at == time(8, 30) and shown.days_off == "67" and shown.team_silent_days == 30


def test_digest_time_off_and_on_again(engine, sales):
    assert change(engine, sales, preferences.set_digest, "下午6點").settings.digest_at == time(18)
    off = change(engine, sales, preferences.set_digest, "關閉")
    assert off.changed and off.settings.digest_at is None
    assert stored(engine, sales).digest_at is None
    assert change(engine, sales, preferences.set_digest, "on").settings.digest_at == time(8, 30)
    refused = change(engine, sales, preferences.set_digest, "sometime")
    assert refused.refused is Refusal.UNREADABLE and refused.settings.digest_at == time(8, 30)
    assert change(engine, sales, preferences.set_digest, " ").refused is Refusal.NOTHING_GIVEN


def test_hours_with_days_and_days_alone(engine, sales):
    result = change(engine, sales, preferences.set_hours, "9點半到下午6點半 週一至週六")
    assert (result.settings.work_start, result.settings.work_end) == (time(9, 30), time(18, 30))
    assert result.settings.work_days == "123456"
    kept = change(engine, sales, preferences.set_hours, "8am-5pm")
    assert (kept.settings.work_start, kept.settings.work_days) == (time(8), "123456")  # days kept
    assert change(engine, sales, preferences.set_hours, "mon,wed,fri").settings.work_days == "135"
    assert change(engine, sales, preferences.set_hours, "whenever").refused is Refusal.UNREADABLE
    assert change(engine, sales, preferences.set_hours, "").refused is Refusal.NOTHING_GIVEN
    assert stored(engine, sales).work_days == "135" and stored(engine, sales).work_start == time(8)


def test_days_off_leave_at_least_one_working_day(engine, sales):
    result = change(engine, sales, preferences.set_days_off, "週日")
    assert result.settings.work_days == "123456" and result.settings.days_off == "7"
    assert change(engine, sales, preferences.set_days_off, "none").settings.work_days == "1234567"
    assert change(engine, sales, preferences.set_days_off, "everyday").refused is Refusal.NO_WORKING_DAYS
    assert change(engine, sales, preferences.set_days_off, "someday").refused is Refusal.UNREADABLE
    assert change(engine, sales, preferences.set_days_off, "").refused is Refusal.NOTHING_GIVEN
    assert stored(engine, sales).work_days == "1234567"


def test_a_zone_brings_its_countrys_holidays_and_an_unknown_zone_is_named_as_such(engine, sales):
    moved = change(engine, sales, preferences.set_timezone, "上海")
    assert moved.holidays_follow_zone and (moved.settings.timezone, moved.settings.country) == ("Asia/Shanghai", "CN")
    plain = change(engine, sales, preferences.set_timezone, "America/Chicago")
    assert not plain.holidays_follow_zone
    assert (plain.settings.timezone, plain.settings.country) == ("America/Chicago", "CN")
    unknown = change(engine, sales, preferences.set_timezone, "Mars/Base")
    assert unknown.refused is Refusal.UNKNOWN_ZONE and unknown.settings.timezone == "America/Chicago"
    assert change(engine, sales, preferences.set_timezone, "").refused is Refusal.NOTHING_GIVEN


def test_country_by_code_or_name_or_none(engine, sales):
    assert change(engine, sales, preferences.set_country, "香港").settings.country == "HK"
    assert change(engine, sales, preferences.set_country, "sg").settings.country == "SG"
    assert change(engine, sales, preferences.set_country, "Atlantis").refused is Refusal.UNKNOWN_COUNTRY
    assert change(engine, sales, preferences.set_country, "").refused is Refusal.NOTHING_GIVEN
    cleared = change(engine, sales, preferences.set_country, "none")
    assert cleared.changed and cleared.settings.country == ""
    with unit_of_work(engine) as uow:
        assert uow.session.get(Member, sales.member_id).country == ""


def test_every_change_is_audited_with_before_and_after(engine, sales):
    change(engine, sales, preferences.set_digest, "07:45")
    change(engine, sales, preferences.set_digest, "nonsense")  # refused: nothing stored, nothing audited
    with unit_of_work(engine) as uow:
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.entity == "member",
                                                           AuditEvent.action == "update")).all()
    assert [(e.actor_id, e.before, e.after) for e in events] == [
        (sales.member_id, {"digest_time": "08:30"}, {"digest_time": "07:45"})]


def test_team_silent_days_for_managers_only(engine, owner, sales):
    assert change(engine, owner, preferences.set_team_silent_days, "10 天").settings.team_silent_days == 10
    assert stored(engine, sales).team_silent_days == 10  # the team's, seen by every member
    with pytest.raises(NotAllowed), unit_of_work(engine) as uow:
        preferences.set_team_silent_days(uow, sales, "20")
    with pytest.raises(InvalidInput), unit_of_work(engine) as uow:
        preferences.set_team_silent_days(uow, owner, "0")
    shown = change(engine, sales, preferences.set_team_silent_days, "soon")
    assert shown.refused is Refusal.UNREADABLE and shown.settings.team_silent_days == 10
    assert change(engine, sales, preferences.set_team_silent_days, "").refused is Refusal.NOTHING_GIVEN
    assert stored(engine, owner).team_silent_days == 10
