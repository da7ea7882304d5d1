"""The member's own settings (zone, holiday country, working hours and days, digest time) and the team's
quiet-days default: what they are, and each change from the words a member typed.

Every change takes the text after the command (`09:00-18:00 mon-fri`, `Asia/Hong_Kong`, `off`) and returns
the settings as they are afterwards, or why nothing was stored so the chat can show the matching usage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from enum import StrEnum

from core.models import Member, Team
from core.scheduling.workhours import (
    DEFAULT_DIGEST,
    DIGEST_OFF,
    country_of_zone,
    digest_at,
    is_off_word,
    is_on_word,
    is_supported_country,
    parse_clock,
    parse_country,
    parse_days,
    parse_hours,
    parse_zone,
    work_hours,
)
from core.services import teams
from core.services.actor import Actor
from core.services.customers import MAX_SILENT_DAYS
from core.understanding.numerals import day_count, numerals_to_digits
from core.uow import UnitOfWork

ALL_DAYS = "1234567"


@dataclass(frozen=True, slots=True)
class MemberSettings:
    """The settings /settings shows; `work_days` are ISO weekday digits (`12345` = Monday to Friday)."""

    timezone: str
    country: str  # "" when public holidays do not count
    work_start: time
    work_end: time
    work_days: str
    digest_at: time | None  # None: the morning digest is off
    team_silent_days: int

    @property
    def days_off(self) -> str:
        return "".join(d for d in ALL_DAYS if d not in self.work_days)


class Refusal(StrEnum):
    """Why a settings command stored nothing."""

    NOTHING_GIVEN = "nothing_given"  # the bare command: show the current value and how to change it
    UNREADABLE = "unreadable"  # show how to write it
    UNKNOWN_ZONE = "unknown_zone"
    UNKNOWN_COUNTRY = "unknown_country"  # no holiday calendar for it
    NO_WORKING_DAYS = "no_working_days"  # every day would be a day off


@dataclass(frozen=True, slots=True)
class SettingResult:
    settings: MemberSettings  # as they are after the command
    refused: Refusal | None = None
    holidays_follow_zone: bool = False  # /tz also set the country whose public holidays count

    @property
    def changed(self) -> bool:
        return self.refused is None


def _view(uow: UnitOfWork, member: Member) -> MemberSettings:
    start, end = work_hours(member)
    team = uow.session.get(Team, member.team_id)
    assert team is not None
    return MemberSettings(member.timezone, member.country, start, end, member.work_days, digest_at(member),
                          team.silent_days)


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def member_settings(uow: UnitOfWork, actor: Actor) -> MemberSettings:
    return _view(uow, teams.member_row(uow.session, actor.member_id))


def _refused(uow: UnitOfWork, actor: Actor, refusal: Refusal) -> SettingResult:
    return SettingResult(member_settings(uow, actor), refusal)


def _store(uow: UnitOfWork, actor: Actor, **values: str) -> SettingResult:
    return SettingResult(_view(uow, teams.update_settings(uow.session, actor, **values)))


def set_digest(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """`07:45`, `下午6點`, `七點半`, `下午三點`, `on` (the default time) or `off`."""
    if not text.strip():
        return _refused(uow, actor, Refusal.NOTHING_GIVEN)
    if is_off_word(text):
        return _store(uow, actor, digest_time=DIGEST_OFF)
    at = DEFAULT_DIGEST if is_on_word(text) else parse_clock(text) or parse_clock(numerals_to_digits(text))
    if at is None:
        return _refused(uow, actor, Refusal.UNREADABLE)
    return _store(uow, actor, digest_time=_clock(at))


def set_hours(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """`09:00-18:00 mon-fri`, `9點到18點 週一至週六`, `九點到下午六點`, `9am-6pm` (days kept) or only the days."""
    if not text.strip():
        return _refused(uow, actor, Refusal.NOTHING_GIVEN)
    parsed = parse_hours(text) or parse_hours(numerals_to_digits(text))  # 九點到下午六點
    if parsed is None:
        days_only = parse_days(text)
        if days_only is None:
            return _refused(uow, actor, Refusal.UNREADABLE)
        return _store(uow, actor, work_days=days_only)
    start, end, days = parsed
    values = {"work_start": _clock(start), "work_end": _clock(end)}
    if days:
        values["work_days"] = days
    return _store(uow, actor, **values)


def set_days_off(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """The weekly days off (`sat,sun`, `週日`), or `none` to work every day; the rest are working days."""
    if not text.strip():
        return _refused(uow, actor, Refusal.NOTHING_GIVEN)
    off = "" if is_off_word(text) else parse_days(text)
    if off is None:
        return _refused(uow, actor, Refusal.UNREADABLE)
    work = "".join(d for d in ALL_DAYS if d not in off)
    if not work:
        return _refused(uow, actor, Refusal.NO_WORKING_DAYS)
    return _store(uow, actor, work_days=work)


def set_timezone(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """`Asia/Hong_Kong`, `hong kong`, `香港`; the zone's country's public holidays come along when we know them."""
    if not text.strip():
        return _refused(uow, actor, Refusal.NOTHING_GIVEN)
    zone = parse_zone(text)
    if zone is None:
        return _refused(uow, actor, Refusal.UNKNOWN_ZONE)
    country = country_of_zone(zone)
    if country and is_supported_country(country):
        return replace(_store(uow, actor, timezone=zone, country=country), holidays_follow_zone=True)
    return _store(uow, actor, timezone=zone)


def set_country(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """`TW`, `香港`, or `none` so that public holidays no longer count as days off."""
    if is_off_word(text):
        return _store(uow, actor, country="")
    if not text.strip():
        return _refused(uow, actor, Refusal.NOTHING_GIVEN)
    code = parse_country(text)
    if code is None:
        return _refused(uow, actor, Refusal.UNKNOWN_COUNTRY)
    return _store(uow, actor, country=code)


def parse_day_count(text: str) -> int | None:
    """`30`, `30 days`, `30天`, `三十`, `三十天`, `３０` → 30; None when it is not a whole number of days."""
    return day_count(text)


def silent_days_out_of_range(text: str) -> bool:
    """A number of days that /silentdays refuses (`0`, `四百`): the chat shows the usage (1 to 365)."""
    days = day_count(text)
    return days is not None and not 1 <= days <= MAX_SILENT_DAYS


def set_team_silent_days(uow: UnitOfWork, actor: Actor, text: str) -> SettingResult:
    """The team's default quiet days before an important customer's owner is alerted (owners and managers;
    raises NotAllowed for others and InvalidInput outside 1–MAX_SILENT_DAYS)."""
    days = parse_day_count(text)
    if days is None:
        return _refused(uow, actor, Refusal.UNREADABLE if text.strip() else Refusal.NOTHING_GIVEN)
    teams.set_team_silent_days(uow.session, actor, days)
    return SettingResult(member_settings(uow, actor))
