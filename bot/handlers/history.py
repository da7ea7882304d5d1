"""/history <customer>: who did what and when for a customer, newest first, 10 a page with Older/Newer buttons.

The events come from `core.usecases.history`; each is one sentence in the viewer's language and zone
(`history.ev_<kind>`), an unknown kind `history.ev_generic` with its action and entity. A page button
(`hi:p:<customer>:<page>`) runs the same use case, so a forged one shows nothing the presser may not see.
"""

from __future__ import annotations

from datetime import datetime

from bot.context import Ctx
from bot.i18n import PLURAL_CATEGORIES, catalogue
from bot.note_cards import distinct_labels
from bot.render import esc, local
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.usecases import customers, history
from core.usecases.history import Entry, HistoryPage
from core.usecases.views import CustomerRef

PICK = 8


def has_key(language: str, key: str) -> bool:
    messages = catalogue(language)
    return key in messages or any(f"{key}_{category}" in messages for category in PLURAL_CATEGORIES)


def _at(ctx: Ctx, at: datetime) -> str:
    moment = local(at, ctx.tz)
    now = local(ctx.now, ctx.tz)
    stamp = moment.strftime("%m/%d %H:%M")
    return stamp if moment.year == now.year else f"{moment.year}/{stamp}"


def _value(ctx: Ctx, name: str, value: object) -> object:
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return _at(ctx, value)
    if name == "kind":
        key = f"kinds.{value}"
        return ctx.t(key) if has_key(ctx.language, key) else esc(value)
    if name == "fields" and isinstance(value, str):
        return esc(value.replace("_", " "))
    return esc(value)


def sentence(ctx: Ctx, entry: Entry) -> str:
    values = {name: _value(ctx, name, value) for name, value in entry.values.items()}
    key = f"history.ev_{entry.what}"
    if not has_key(ctx.language, key):
        key, values = "history.ev_generic", {"action": esc(entry.what), "entity": ""}
    what = ctx.t(key, **values)
    if entry.values.get("text") and entry.what in ("logged", "filed", "edited", "undone"):
        what = ctx.t("history.with_text", what=what, text=values["text"])
    who = esc(entry.who) if entry.who else ctx.t("history.by_bot")
    return ctx.t("history.line", at=_at(ctx, entry.at), who=who, what=what)


def render(ctx: Ctx, page: HistoryPage, *, edit: bool = False) -> Reply:
    name = esc(page.customer.name)
    if not page.entries:
        return Reply(ctx.t("history.empty", customer=name), edit=edit)
    head = ctx.t("history.header", customer=name, page=page.page + 1, pages=page.pages)
    text = "\n".join([f"<b>{head}</b>", *(sentence(ctx, e) for e in page.entries)])
    row: list[Button] = []
    if page.has_newer:
        row.append(Button(ctx.t("history.btn_newer"), f"hi:p:{page.customer.id}:{page.page - 1}"))
    if page.has_older:
        row.append(Button(ctx.t("history.btn_older"), f"hi:p:{page.customer.id}:{page.page + 1}"))
    return Reply(text, buttons=(tuple(row),) if row else (), edit=edit)


def _choices(found: tuple[CustomerRef, ...]) -> tuple[tuple[Button, ...], ...]:
    shown = list(found[:PICK])
    return tuple((Button(label, f"hi:p:{c.id}:0"),) for c, label in zip(shown, distinct_labels(shown), strict=True))


@command("history")
def customer_history(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        recent = customers.recent_customers(ctx.uow, ctx.actor)
        if not recent:
            return [Reply(ctx.t("history.usage"))]
        return [Reply(ctx.t("history.pick"), buttons=_choices(recent))]
    match = customers.find_customer(ctx.uow, ctx.actor, name)
    if match.customer is None:
        if match.candidates:
            return [Reply(ctx.t("customers.which", name=esc(name)), buttons=_choices(match.candidates))]
        return [Reply(ctx.t("customers.unknown", name=esc(name)))]
    return [render(ctx, history.customer_history(ctx.uow, ctx.actor, match.customer.id))]


@button("hi")
def history_page(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) == 3 and parts[0] == "p" and parts[1].isdigit() and parts[2].isdigit():
        page = history.customer_history(ctx.uow, ctx.actor, int(parts[1]), page=int(parts[2]))
        return [render(ctx, page, edit=True)]
    return [Reply(ctx.t("core.stale_button"))]
