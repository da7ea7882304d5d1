"""/team: the team's members with what each holds; owners and managers promote, demote and remove (two steps).

Buttons: `tm:ask:<member>:<up|down|rm>` (choose: a confirmation is drawn), `tm:ok:<member>:<from>:<to>` (confirm:
the end state from a known start, one letter each — o, m, s, x for removed), `tm:x` (cancel). Every press is
re-checked by `core.usecases.team_members` (team, rights, the last owner, the member's role now), so a forged,
stale or repeated press changes nothing and says so.

Paging: a roster of more than `PAGE` rows (members, then removed members waiting for a handover) is shown `PAGE`
rows at a time — within Telegram's 100 buttons and 4,096 characters and Slack's 50 blocks — with `tm:nx:<member>:<l>`
(the rows after that member) and `tm:pv:<member>:<l>` (the rows before), `l` the row's place as drawn (o, m, s; x
for waiting). A page starts from a member, not an offset: on a page drawn before someone left, was promoted or
joined, Next still shows each remaining row once, right after the last one that page showed.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from babel.dates import format_timedelta

from bot.context import Ctx
from bot.i18n import babel_locale
from bot.render import esc
from bot.router import button, command
from core.chat import Button, Reply
from core.usecases import team_members
from core.usecases.team_members import REMOVED, Change, ChangeResult, MemberRow, Roster, Status

LETTERS = {"owner": "o", "manager": "m", "sales": "s", REMOVED: "x"}
ROLES = {letter: role for role, letter in LETTERS.items()}
ICONS = {Change.PROMOTE: "btn_promote", Change.DEMOTE: "btn_demote", Change.REMOVE: "btn_remove"}
PAGE = 20  # rows a page shows: ≤ 3 buttons each + 2 stays under Telegram's 100; ~25 blocks under Slack's 50
WAITING = "x"  # the place letter of a removed member waiting for a handover
PLACE = {"o": 0, "m": 1, "s": 2, WAITING: 3}  # the roster's order: owners, managers, salespeople, then waiting


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
    return [_page(ctx, team_members.roster(ctx.uow, ctx.actor))]


Key = tuple[int, str, int]  # (place, name folded, member id): the roster's order


def _rows(roster: Roster) -> list[tuple[Key, MemberRow, bool]]:
    """Every row of the roster in order: (its key, the row, whether it waits for a handover)."""
    rows = [((PLACE[LETTERS[r.role]], r.name.casefold(), r.id), r, False) for r in roster.members]
    rows += [((PLACE[WAITING], r.name.casefold(), r.id), r, True) for r in roster.waiting]
    return sorted(rows, key=lambda entry: entry[0])


def _page(ctx: Ctx, roster: Roster, after: Key | None = None, before: Key | None = None) -> Reply:
    """The page of `PAGE` rows after the key `after` (or before `before`; the first page without either)."""
    rows = _rows(roster)
    if before is not None:
        earlier = [entry for entry in rows if entry[0] < before]
        start = max(0, len(earlier) - PAGE)
    else:
        start = sum(1 for entry in rows if after is not None and entry[0] <= after)
    if start >= len(rows):  # every row after it has gone since: the last page
        start = max(0, len(rows) - PAGE)
    shown = rows[start:start + PAGE]
    lines = [ctx.t("team.title", team=esc(roster.team_name))]
    pages_before = math.ceil(start / PAGE)
    pages = pages_before + max(1, math.ceil((len(rows) - start) / PAGE))
    if pages > 1:
        lines.append(ctx.t("team.page", page=pages_before + 1, pages=pages))
    waiting_shown = False
    for _, row, waiting in shown:
        if waiting:
            if not waiting_shown:
                lines += ["", ctx.t("team.waiting_title")]
                waiting_shown = True
            lines.append(ctx.t("team.waiting_row", name=esc(row.name), customers=row.customers))
        else:
            lines.append(ctx.t("team.row", name=esc(row.name), you=ctx.t("team.you") if row.you else "",
                               role=role_name(ctx, row.role), customers=row.customers,
                               follow_ups=row.open_follow_ups, last=_last(ctx, row)))
    buttons = [tuple(Button(ctx.t(f"team.{ICONS[change]}", name=row.name), f"tm:ask:{row.id}:{change.value}")
                     for change in row.changes) for _, row, waiting in shown if row.changes and not waiting]
    if buttons:
        lines += ["", ctx.t("team.hint")]
    nav = []
    if start > 0 and shown:
        nav.append(Button(ctx.t("team.btn_previous"), f"tm:pv:{shown[0][1].id}:{_letter(shown[0])}"))
    if start + PAGE < len(rows) and shown:
        nav.append(Button(ctx.t("team.btn_next"), f"tm:nx:{shown[-1][1].id}:{_letter(shown[-1])}"))
    if nav:
        buttons.append(tuple(nav))
    return Reply("\n".join(lines), buttons=tuple(buttons))


def _letter(entry: tuple[Key, MemberRow, bool]) -> str:
    return WAITING if entry[2] else LETTERS[entry[1].role]


def _turn(ctx: Ctx, member_id: int, letter: str, forward: bool) -> list[Reply]:
    """Next or Previous from the row of `member_id` as it was drawn (its place `letter`), whatever changed."""
    roster = team_members.roster(ctx.uow, ctx.actor)
    name = next((row.name for _, row, _ in _rows(roster) if row.id == member_id), None)
    if name is None:  # removed since, with no customers left: their name is still the team's
        found = team_members.propose(ctx.uow, ctx.actor, member_id, Change.REMOVE).member
        if found is None:
            return [Reply(ctx.t("core.stale_button"))]
        name = found.name
    key = (PLACE[letter], name.casefold(), member_id)
    page = _page(ctx, roster, after=key) if forward else _page(ctx, roster, before=key)
    return [Reply(page.text, buttons=page.buttons, edit=True)]


@button("tm")
def team_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb = parts[0] if parts else ""
    if verb == "x" and len(parts) == 1:
        return [Reply(ctx.t("team.cancelled"), edit=True)]
    member_id = int(parts[1]) if len(parts) > 1 and parts[1].isascii() and parts[1].isdigit() else 0
    if verb == "ask" and len(parts) == 3 and member_id and parts[2] in {c.value for c in Change}:
        return _confirm(ctx, team_members.propose(ctx.uow, ctx.actor, member_id, Change(parts[2])))
    if verb in ("nx", "pv") and len(parts) == 3 and member_id and parts[2] in PLACE:
        return _turn(ctx, member_id, parts[2], forward=verb == "nx")
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
