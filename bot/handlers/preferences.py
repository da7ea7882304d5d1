"""The member's own settings: /settings, /digest, /hours, /daysoff, /tz, /country; the team's /silentdays."""

from __future__ import annotations

from datetime import time

from bot.context import Ctx
from bot.render import WEEKDAYS, esc, when
from bot.router import command
from core.chat import CommandIn, Reply
from core.models import Member, Team
from core.scheduling.workhours import (
    DEFAULT_DIGEST,
    DIGEST_OFF,
    country_of_zone,
    digest_at,
    is_supported_country,
    parse_clock,
    parse_days,
    parse_hours,
    parse_zone,
    work_hours,
)
from core.services import teams

OFF_WORDS = {"off", "no", "none", "stop", "關", "关", "關閉", "关闭", "不要", "取消", "無", "无"}
ON_WORDS = {"on", "yes", "開", "开", "開啟", "开启"}


def _args(ctx: Ctx) -> str:
    assert isinstance(ctx.incoming, CommandIn)
    return ctx.incoming.args.strip()


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def days_text(work_days: str, language: str) -> str:
    """ISO weekday digits as `Mon–Fri`, `Mon, Wed, Fri` or `週一至週五` in the member's language."""
    names = WEEKDAYS.get(language, WEEKDAYS["en"])
    days = sorted({int(d) for d in work_days if d in "1234567"})
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        joiner = "–" if language == "en" else "至"
        return f"{names[days[0] - 1]}{joiner}{names[days[-1] - 1]}"
    return ("、" if language != "en" else ", ").join(names[d - 1] for d in days)


def settings_lines(ctx: Ctx, member: Member) -> list[str]:
    start, end = work_hours(member)
    digest = digest_at(member)
    team = ctx.uow.session.get(Team, member.team_id)
    lines = [ctx.t("settings.title"), ctx.t("settings.zone", zone=esc(member.timezone),
                                            now=when(ctx.now, tz=member.timezone, language=ctx.language))]
    lines.append(ctx.t("settings.holidays", country=esc(member.country)) if member.country
                 else ctx.t("settings.holidays_none"))
    lines.append(ctx.t("settings.hours", start=_clock(start), end=_clock(end),
                       days=days_text(member.work_days, ctx.language)))
    lines.append(ctx.t("settings.digest", time=_clock(digest)) if digest else ctx.t("settings.digest_off"))
    if team is not None:
        lines.append(ctx.t("settings.silent", days=team.silent_days))
    return lines


@command("settings")
def show_settings(ctx: Ctx) -> list[Reply]:
    assert ctx.member is not None
    return [Reply("\n".join([*settings_lines(ctx, teams.member_row(ctx.uow.session, ctx.actor.member_id)), "", ctx.t("settings.help")]))]


@command("digest")
def digest(ctx: Ctx) -> list[Reply]:
    assert ctx.member is not None
    wanted = _args(ctx)
    if not wanted:
        at = digest_at(teams.member_row(ctx.uow.session, ctx.actor.member_id))
        now = ctx.t("settings.digest", time=_clock(at)) if at else ctx.t("settings.digest_off")
        return [Reply(now + "\n" + ctx.t("settings.digest_usage"))]
    if wanted.lower() in OFF_WORDS:
        teams.update_settings(ctx.uow.session, ctx.actor, digest_time=DIGEST_OFF)
        return [Reply(ctx.t("settings.digest_now_off"))]
    at = parse_clock(DEFAULT_DIGEST.strftime("%H:%M") if wanted.lower() in ON_WORDS else wanted)
    if at is None:
        return [Reply(ctx.t("settings.digest_usage"))]
    teams.update_settings(ctx.uow.session, ctx.actor, digest_time=_clock(at))
    return [Reply(ctx.t("settings.digest_set", time=_clock(at)))]


@command("hours")
def hours(ctx: Ctx) -> list[Reply]:
    assert ctx.member is not None
    wanted = _args(ctx)
    if not wanted:
        start, end = work_hours(teams.member_row(ctx.uow.session, ctx.actor.member_id))
        return [Reply(ctx.t("settings.hours", start=_clock(start), end=_clock(end),
                            days=days_text(teams.member_row(ctx.uow.session, ctx.actor.member_id).work_days, ctx.language)) + "\n" + ctx.t("settings.hours_usage"))]
    parsed = parse_hours(wanted)
    if parsed is None:
        days_only = parse_days(wanted)
        if days_only is None:
            return [Reply(ctx.t("settings.hours_usage"))]
        member = teams.update_settings(ctx.uow.session, ctx.actor, work_days=days_only)
    else:
        start, end, days = parsed
        values = {"work_start": _clock(start), "work_end": _clock(end)}
        if days:
            values["work_days"] = days
        member = teams.update_settings(ctx.uow.session, ctx.actor, **values)
    start, end = work_hours(member)
    return [Reply(ctx.t("settings.hours_set", start=_clock(start), end=_clock(end),
                        days=days_text(member.work_days, ctx.language)))]


@command("daysoff")
def days_off(ctx: Ctx) -> list[Reply]:
    wanted = _args(ctx)
    off = "" if wanted.lower() in OFF_WORDS else parse_days(wanted) if wanted else None
    if off is None:
        return [Reply(ctx.t("settings.daysoff_usage"))]
    work = "".join(d for d in "1234567" if d not in off)
    if not work:
        return [Reply(ctx.t("settings.no_working_days"))]
    member = teams.update_settings(ctx.uow.session, ctx.actor, work_days=work)
    return [Reply(ctx.t("settings.daysoff_set", off=days_text(off, ctx.language) if off else "—",
                        work=days_text(member.work_days, ctx.language)))]


@command("tz")
def timezone(ctx: Ctx) -> list[Reply]:
    wanted = _args(ctx)
    zone = parse_zone(wanted) if wanted else None
    if zone is None:
        return [Reply(ctx.t("settings.tz_usage"))]
    country = country_of_zone(zone)
    values = {"timezone": zone}
    if country and is_supported_country(country):
        values["country"] = country
    member = teams.update_settings(ctx.uow.session, ctx.actor, **values)
    now = when(ctx.now, tz=zone, language=ctx.language)
    if "country" in values:
        return [Reply(ctx.t("settings.tz_set_country", zone=esc(zone), now=now, country=esc(member.country)))]
    return [Reply(ctx.t("settings.tz_set", zone=esc(zone), now=now))]


@command("country")
def country(ctx: Ctx) -> list[Reply]:
    wanted = _args(ctx)
    if wanted.lower() in OFF_WORDS:
        teams.update_settings(ctx.uow.session, ctx.actor, country="")
        return [Reply(ctx.t("settings.country_none"))]
    code = {"台灣": "TW", "台湾": "TW", "臺灣": "TW", "香港": "HK", "中國": "CN", "中国": "CN", "澳門": "MO",
            "澳门": "MO", "新加坡": "SG"}.get(wanted, wanted.upper())
    if not code or not is_supported_country(code):
        return [Reply(ctx.t("settings.country_usage"))]
    teams.update_settings(ctx.uow.session, ctx.actor, country=code)
    return [Reply(ctx.t("settings.country_set", country=esc(code)))]


@command("silentdays")
def silent_days(ctx: Ctx) -> list[Reply]:
    wanted = _args(ctx).removesuffix("天").removesuffix("days").strip()
    if not wanted.isdigit():
        team = ctx.uow.session.get(Team, ctx.actor.team_id)
        return [Reply(ctx.t("settings.silent", days=team.silent_days if team else 30) + "\n"
                      + ctx.t("settings.silentdays_usage"))]
    team = teams.set_team_silent_days(ctx.uow.session, ctx.actor, int(wanted))
    return [Reply(ctx.t("settings.silentdays_set", days=team.silent_days))]
