"""/start (found a team, join or re-join with an invite code), /invite, /help, /lang: see core.usecases.team."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Ctx
from bot.group_privacy import start_link
from bot.i18n import LANGUAGES, normalize_language
from bot.render import esc
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.usecases import team
from core.usecases.team import Newcomer, StartOutcome

MENU_LANGUAGE = "command_menu"  # Reply.extra key: the language of the member's own command menu
LANGUAGE_NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}


def _args(ctx: Ctx) -> str:
    assert isinstance(ctx.incoming, CommandIn)
    return ctx.incoming.args.strip()


def _newcomer(ctx: Ctx) -> Newcomer:
    env = ctx.incoming.env
    settings = ctx.settings
    return Newcomer(
        platform=env.chat.platform, platform_user_id=env.sender.platform_user_id, chat_id=env.chat.chat_id,
        name=env.sender.display_name or env.sender.username or env.sender.platform_user_id,
        workspace_id=env.sender.workspace_id,
        language=normalize_language(env.sender.language_code, settings.default_language),
        timezone=_zone(env.sender.timezone) or settings.default_timezone, country=settings.default_country)


def _zone(name: str | None) -> str | None:
    """The platform's zone for the newcomer (Slack users.info `tz`) if it is a real IANA zone."""
    return name if name and team.is_time_zone(name) else None


def _with_menu(reply: Reply, language: str) -> Reply:
    """Ask the adapter to show the command menu in `language` in this member's chat (Telegram)."""
    return replace(reply, extra={**reply.extra, MENU_LANGUAGE: language})


@command("start")
def start(ctx: Ctx) -> list[Reply]:
    result = team.start(ctx.uow, ctx.member, ctx.now, _newcomer(ctx), code=_args(ctx),
                        in_group=ctx.incoming.env.is_group, open_signup=ctx.settings.open_signup)
    match result.outcome:
        case StartOutcome.ALREADY_MEMBER if result.actor is not None:
            return [Reply(ctx.t("onboarding.already", team=esc(result.team_name)) + "\n\n"
                          + ctx.t("onboarding.help"))]
        case StartOutcome.ALREADY_MEMBER:
            return [Reply(ctx.t("onboarding.already", team=""))]
        case StartOutcome.OTHER_TEAM:
            return [Reply(ctx.t("onboarding.other_team", team=esc(result.team_name),
                                other=esc(result.other_team)))]
        case StartOutcome.GROUP_REFUSED:
            return [Reply(ctx.t("onboarding.private_only"))]
        case StartOutcome.NEED_INVITE:
            return [Reply(ctx.t("onboarding.need_invite"))]
        case StartOutcome.BAD_INVITE:
            return [Reply(ctx.t("onboarding.bad_invite"))]
    assert result.actor is not None
    ctx.member, ctx.language = result.actor, result.actor.language
    return [_with_menu(Reply(ctx.t(f"onboarding.{result.outcome.value}", name=esc(result.actor.name),
                                   team=esc(result.team_name)) + "\n\n" + ctx.t("onboarding.help")),
                       result.actor.language)]


@command("help")
def help_(ctx: Ctx) -> list[Reply]:
    if ctx.member is None:
        return [Reply(ctx.t("onboarding.need_invite"))]
    return [Reply(ctx.t("onboarding.help"))]


@command("invite")
def invite(ctx: Ctx) -> list[Reply]:
    created = team.create_invite(ctx.uow, ctx.actor, ctx.now, team.invite_role(_args(ctx)))
    text = ctx.t("onboarding.invite", code=created.code, role=ctx.t(f"onboarding.role_{created.role}"))
    link = start_link(ctx, created.code)
    if link:
        text += "\n" + ctx.t("invites.link", link=esc(link))
    return [Reply(text)]


@command("lang")
def lang(ctx: Ctx) -> list[Reply]:
    choice = team.parse_language(_args(ctx))
    if choice:
        return _set_language(ctx, choice, edit=False)
    buttons = (tuple(Button(LANGUAGE_NAMES[code], f"lang:set:{code}") for code in LANGUAGES),)
    return [Reply(ctx.t("onboarding.choose_language"), buttons=buttons)]


@button("lang")
def lang_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) != 2 or parts[1] not in LANGUAGES:
        return [Reply(ctx.t("core.stale_button"))]
    return _set_language(ctx, parts[1], edit=True)


def _set_language(ctx: Ctx, language: str, *, edit: bool) -> list[Reply]:
    ctx.member = team.set_language(ctx.uow, ctx.actor, language)
    ctx.language = ctx.member.language
    return [_with_menu(Reply(ctx.t("onboarding.language_set", language=LANGUAGE_NAMES[language]), edit=edit),
                       language)]
