"""/start (found a team or join with an invite code), /invite, /help, /lang."""

from __future__ import annotations

from bot.context import Ctx
from bot.i18n import LANGUAGES, normalize_language
from bot.render import esc
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.models import Role, Team
from core.services import teams
from core.services.actor import Actor
from core.services.errors import AlreadyMember, InvalidInvite

LANGUAGE_NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}


def _newcomer(ctx: Ctx) -> teams.Newcomer:
    env = ctx.incoming.env
    settings = ctx.settings
    return teams.Newcomer(
        platform=env.chat.platform, platform_user_id=env.sender.platform_user_id, chat_id=env.chat.chat_id,
        name=env.sender.display_name or env.sender.username or env.sender.platform_user_id,
        workspace_id=env.sender.workspace_id,
        language=normalize_language(env.sender.language_code, settings.default_language),
        timezone=settings.default_timezone, country=settings.default_country)


@command("start")
def start(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    code = ctx.incoming.args.strip().split()[0] if ctx.incoming.args.strip() else ""
    if ctx.member is not None:
        team = ctx.uow.session.get(Team, ctx.member.team_id)
        return [Reply(ctx.t("onboarding.already", team=esc(team.name if team else "")) + "\n\n"
                      + ctx.t("onboarding.help"))]
    if ctx.incoming.env.is_group:
        return [Reply(ctx.t("onboarding.private_only"))]
    who = _newcomer(ctx)
    try:
        if code:
            member = teams.join(ctx.uow.session, code, who, now=ctx.now)
            key = "onboarding.joined"
        elif not teams.any_team(ctx.uow.session):
            member = teams.found_team(ctx.uow.session, who)
            key = "onboarding.founded"
        else:
            return [Reply(ctx.t("onboarding.need_invite"))]
    except InvalidInvite:
        return [Reply(ctx.t("onboarding.bad_invite"))]
    except AlreadyMember:
        return [Reply(ctx.t("onboarding.already", team=""))]
    ctx.member, ctx.language = Actor.of(member), member.language
    team = ctx.uow.session.get(Team, member.team_id)
    return [Reply(ctx.t(key, name=esc(member.name), team=esc(team.name if team else "")) + "\n\n"
                  + ctx.t("onboarding.help"))]


@command("help")
def help_(ctx: Ctx) -> list[Reply]:
    if ctx.member is None:
        return [Reply(ctx.t("onboarding.need_invite"))]
    return [Reply(ctx.t("onboarding.help"))]


@command("invite")
def invite(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    role = Role.manager.value if ctx.incoming.args.strip().lower() in ("manager", "經理", "经理") else Role.sales.value
    created = teams.create_invite(ctx.uow.session, ctx.actor, role, now=ctx.now)
    return [Reply(ctx.t("onboarding.invite", code=created.code, role=ctx.t(f"onboarding.role_{role}")))]


@command("lang")
def lang(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    wanted = ctx.incoming.args.strip()
    if wanted:
        choice = next((code for code in LANGUAGES if code.lower() == wanted.lower()), None)
        choice = choice or {"繁體": "zh-Hant", "繁体": "zh-Hant", "简体": "zh-Hans", "簡體": "zh-Hans",
                            "english": "en"}.get(wanted.lower())
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
    ctx.member = Actor.of(teams.set_language(ctx.uow.session, ctx.actor, language))
    ctx.language = language
    return [Reply(ctx.t("onboarding.language_set", language=LANGUAGE_NAMES[language]), edit=edit)]
