"""The member's own settings: /settings, /digest, /hours, /daysoff, /tz, /country; the team's /silentdays.

The rules and the parsing are core.usecases.preferences; this module renders its results.
"""

from __future__ import annotations

from datetime import time

from bot.context import Ctx
from bot.render import WEEKDAYS, esc, when
from bot.router import command
from core.chat import CommandIn, Reply
from core.usecases import preferences
from core.usecases.preferences import MemberSettings, Refusal


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


def _hours_line(ctx: Ctx, settings: MemberSettings, key: str = "settings.hours") -> str:
    return ctx.t(key, start=_clock(settings.work_start), end=_clock(settings.work_end),
                 days=days_text(settings.work_days, ctx.language))


def _digest_line(ctx: Ctx, settings: MemberSettings) -> str:
    at = settings.digest_at
    return ctx.t("settings.digest", time=_clock(at)) if at else ctx.t("settings.digest_off")


def settings_lines(ctx: Ctx, settings: MemberSettings) -> list[str]:
    lines = [ctx.t("settings.title"), ctx.t("settings.zone", zone=esc(settings.timezone),
                                            now=when(ctx.now, tz=settings.timezone, language=ctx.language))]
    lines.append(ctx.t("settings.holidays", country=esc(settings.country)) if settings.country
                 else ctx.t("settings.holidays_none"))
    lines.append(_hours_line(ctx, settings))
    lines.append(_digest_line(ctx, settings))
    lines.append(ctx.t("settings.silent", days=settings.team_silent_days))
    return lines


def _unreadable(ctx: Ctx, key: str, usage: str) -> str:
    """What was wrong with the value typed (quoted back), then how to write it."""
    return ctx.t(key, value=esc(_args(ctx))) + "\n" + ctx.t(usage)


@command("settings")
def show_settings(ctx: Ctx) -> list[Reply]:
    shown = preferences.member_settings(ctx.uow, ctx.actor)
    return [Reply("\n".join([*settings_lines(ctx, shown), "", ctx.t("settings.help")]))]


@command("digest")
def digest(ctx: Ctx) -> list[Reply]:
    result = preferences.set_digest(ctx.uow, ctx.actor, _args(ctx))
    if result.refused is Refusal.NOTHING_GIVEN:
        return [Reply(_digest_line(ctx, result.settings) + "\n" + ctx.t("settings.digest_usage"))]
    if result.refused is not None:
        return [Reply(_unreadable(ctx, "values.digest_unreadable", "settings.digest_usage"))]
    at = result.settings.digest_at
    return [Reply(ctx.t("settings.digest_set", time=_clock(at)) if at else ctx.t("settings.digest_now_off"))]


@command("hours")
def hours(ctx: Ctx) -> list[Reply]:
    result = preferences.set_hours(ctx.uow, ctx.actor, _args(ctx))
    if result.refused is Refusal.NOTHING_GIVEN:
        return [Reply(_hours_line(ctx, result.settings) + "\n" + ctx.t("settings.hours_usage"))]
    if result.refused is not None:
        return [Reply(_unreadable(ctx, "values.hours_unreadable", "settings.hours_usage"))]
    return [Reply(_hours_line(ctx, result.settings, "settings.hours_set"))]


@command("daysoff")
def days_off(ctx: Ctx) -> list[Reply]:
    result = preferences.set_days_off(ctx.uow, ctx.actor, _args(ctx))
    if result.refused is Refusal.NO_WORKING_DAYS:
        return [Reply(ctx.t("settings.no_working_days"))]
    if result.refused is not None:
        return [Reply(_unreadable(ctx, "values.daysoff_unreadable", "settings.daysoff_usage"))]
    off = result.settings.days_off
    return [Reply(ctx.t("settings.daysoff_set", off=days_text(off, ctx.language) if off else "—",
                        work=days_text(result.settings.work_days, ctx.language)))]


@command("tz")
def timezone(ctx: Ctx) -> list[Reply]:
    result = preferences.set_timezone(ctx.uow, ctx.actor, _args(ctx))
    if result.refused is Refusal.UNKNOWN_ZONE:
        return [Reply(_unreadable(ctx, "values.tz_unknown", "settings.tz_usage"))]
    if result.refused is not None:
        return [Reply(ctx.t("settings.tz_usage"))]
    zone = result.settings.timezone
    now = when(ctx.now, tz=zone, language=ctx.language)
    if result.holidays_follow_zone:
        return [Reply(ctx.t("settings.tz_set_country", zone=esc(zone), now=now,
                            country=esc(result.settings.country)))]
    return [Reply(ctx.t("settings.tz_set", zone=esc(zone), now=now))]


@command("country")
def country(ctx: Ctx) -> list[Reply]:
    result = preferences.set_country(ctx.uow, ctx.actor, _args(ctx))
    if result.refused is Refusal.UNKNOWN_COUNTRY:
        return [Reply(_unreadable(ctx, "values.country_unknown", "settings.country_usage"))]
    if result.refused is not None:
        return [Reply(ctx.t("settings.country_usage"))]
    if not result.settings.country:
        return [Reply(ctx.t("settings.country_none"))]
    return [Reply(ctx.t("settings.country_set", country=esc(result.settings.country)))]


@command("silentdays")
def silent_days(ctx: Ctx) -> list[Reply]:
    """`/silentdays 30` (also 三十, ３０, 30天): the team's quiet days; 0 or 四百 shows the usage (1 to 365)."""
    if preferences.silent_days_out_of_range(_args(ctx)):
        days = preferences.member_settings(ctx.uow, ctx.actor).team_silent_days
    else:
        result = preferences.set_team_silent_days(ctx.uow, ctx.actor, _args(ctx))
        if result.refused is None:
            return [Reply(ctx.t("settings.silentdays_set", days=result.settings.team_silent_days))]
        days = result.settings.team_silent_days
    return [Reply(ctx.t("settings.silent", days=days) + "\n" + ctx.t("settings.silentdays_usage"))]
