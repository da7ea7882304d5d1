"""/team: the team's members with what each holds; owners and managers promote, demote and remove (two steps).

Buttons: `tm:ask:<member>:<up|down|rm>` (choose: a confirmation is drawn), `tm:ok:<member>:<from>:<to>` (confirm:
the end state from a known start, one letter each — o, m, s, x for removed), `tm:x` (cancel). Every press is
re-checked by `core.usecases.team_members` (team, rights, the last owner, the member's role now), so a forged,
stale or repeated press changes nothing and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_timedelta

from bot.context import Ctx
from bot.i18n import babel_locale
from bot.render import esc
from bot.router import button, command
from core.chat import Button, Reply
from core.usecases import team_members
from core.usecases.team_members import REMOVED, Change, ChangeResult, MemberRow, Status

LETTERS = {"owner": "o", "manager": "m", "sales": "s", REMOVED: "x"}
ROLES = {letter: role for role, letter in LETTERS.items()}
ICONS = {Change.PROMOTE: "btn_promote", Change.DEMOTE: "btn_demote", Change.REMOVE: "btn_remove"}
MAX_BUTTON_ROWS = 40  # Telegram allows 100 buttons on a message; a larger team changes roles from the CLI


def ago(at: datetime | None, now: datetime, language: str) -> str:
    """`3 days ago`, `3 天前`, `5小时前`; `just now` under a minute."""
    if at is None:
        return ""
    delta = min(at - now, timedelta(0))  # a note dated ahead counts as now
    if abs(delta.total_seconds()) < 60:
        return ""
    return format_timedelta(delta, add_direction=True, threshold=1, locale=babel_locale(language))


def role_name(ctx: Ctx, role: str) -> str:
    return ctx.t(f"team.role_{role}")


def _last(ctx: Ctx, row: MemberRow) -> str:
    if row.last_active_at is None:
        return ctx.t("team.never")
    return ago(row.last_active_at, ctx.now, ctx.language) or ctx.t("team.just_now")


@command("team")
def team_command(ctx: Ctx) -> list[Reply]:
    roster = team_members.roster(ctx.uow, ctx.actor)
    lines = [ctx.t("team.title", team=esc(roster.team_name))]
    for row in roster.members:
        lines.append(ctx.t("team.row", name=esc(row.name), you=ctx.t("team.you") if row.you else "",
                           role=role_name(ctx, row.role), customers=row.customers,
                           follow_ups=row.open_follow_ups, last=_last(ctx, row)))
    if roster.waiting:
        lines.append("")
        lines.append(ctx.t("team.waiting_title"))
        lines.extend(ctx.t("team.waiting_row", name=esc(row.name), customers=row.customers)
                     for row in roster.waiting)
    rows = [tuple(Button(ctx.t(f"team.{ICONS[change]}", name=row.name), f"tm:ask:{row.id}:{change.value}")
                  for change in row.changes) for row in roster.members if row.changes][:MAX_BUTTON_ROWS]
    if rows:
        lines.append("")
        lines.append(ctx.t("team.hint"))
    return [Reply("\n".join(lines), buttons=tuple(rows))]


@button("tm")
def team_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb = parts[0] if parts else ""
    if verb == "x" and len(parts) == 1:
        return [Reply(ctx.t("team.cancelled"), edit=True)]
    member_id = int(parts[1]) if len(parts) > 1 and parts[1].isascii() and parts[1].isdigit() else 0
    if verb == "ask" and len(parts) == 3 and member_id and parts[2] in {c.value for c in Change}:
        return _confirm(ctx, team_members.propose(ctx.uow, ctx.actor, member_id, Change(parts[2])))
    if verb == "ok" and len(parts) == 4 and member_id and parts[2] in ROLES and parts[3] in ROLES:
        result = team_members.apply(ctx.uow, ctx.actor, ctx.now, member_id, ROLES[parts[2]], ROLES[parts[3]])
        return _outcome(ctx, result)
    return [Reply(ctx.t("core.stale_button"))]


def _confirm(ctx: Ctx, result: ChangeResult) -> list[Reply]:
    if result.status is not Status.OK:
        return _outcome(ctx, result, edit=False)  # the /team list stays
    assert result.member is not None
    member = result.member
    name = esc(member.name)
    payload = f"tm:ok:{member.id}:{LETTERS[result.before]}:{LETTERS[result.after]}"
    if result.after == REMOVED:
        text = ctx.t("team.confirm_remove", name=name, customers=member.customers)
        yes = ctx.t("team.btn_yes_remove", name=member.name)
    else:
        text = ctx.t("team.confirm_owner", name=name) if result.after == "owner" else \
            ctx.t("team.confirm_role", name=name, before=role_name(ctx, result.before),
                  role=role_name(ctx, result.after))
        yes = ctx.t("team.btn_yes_role", name=member.name, role=role_name(ctx, result.after))
    return [Reply(text, buttons=((Button(yes, payload), Button(ctx.t("team.btn_cancel"), "tm:x")),))]


def _outcome(ctx: Ctx, result: ChangeResult, *, edit: bool = True) -> list[Reply]:
    """What a press did (or why it did nothing), drawn over the confirmation."""
    member = result.member
    name = esc(member.name) if member else ""
    match result.status:
        case Status.DONE if result.after == REMOVED:
            assert member is not None
            key = "team.done_removed_with_customers" if member.customers else "team.done_removed"
            text = ctx.t(key, name=name, customers=member.customers)
        case Status.DONE:
            text = ctx.t("team.done_role", name=name, role=role_name(ctx, result.after))
        case Status.ALREADY if result.after == REMOVED:
            text = ctx.t("team.already_removed", name=name)
        case Status.ALREADY:
            text = ctx.t("team.already_role", name=name, role=role_name(ctx, result.after))
        case Status.STALE:
            now = result.before
            text = ctx.t("team.already_removed", name=name) if now == REMOVED else \
                ctx.t("team.stale", name=name, role=role_name(ctx, now))
        case Status.NOT_ALLOWED:
            text = ctx.t("team.not_allowed")
        case Status.LAST_OWNER:
            text = ctx.t("team.last_owner", name=name)
        case _:
            text = ctx.t("team.gone")
    return [Reply(text, edit=edit, notice=text)]
