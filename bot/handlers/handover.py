"""`/handover` (交接, 移交, transfer, 轉移, 转移), "把大同五金行轉給小红負責" / "hand Acme over to Bob", and `/cover`.

The buttons walk: whose customers (removed members first) → to whom → all N or chosen ones (paged toggles; the
choice is kept in the chat's awaited-answer row, `handover_pick`, never in the payload) → confirm. Payloads
(`ho:<verb>:<ids>`) only carry ids: every press re-checks the actor's rights and team in the use case, and a
second confirm moves nothing ("already handed over").
"""

from __future__ import annotations

import re

from bot.context import Ctx
from bot.render import esc
from bot.router import button, command
from core.chat import Button, CommandIn, Reply, TextIn
from core.services.errors import InvalidInput, NotAllowed
from core.usecases import handover
from core.usecases.handover import CoverStatus, HandoverResult, HandoverStatus, MemberChoice, MemberRef
from core.usecases.views import CustomerRef

PICK = "handover_pick"
PICK_MINUTES = 30
SEPARATOR = re.compile(r"\s+(?:to|->|→)\s+|\s*(?:→|給|给|交給|交给)\s*", re.IGNORECASE)
ZH_PHRASE = re.compile(r"^\s*(?:請|请)?\s*把\s*(?P<customer>.+?)\s*(?:轉交給|转交给|移交給|移交给|交接給|交接给|轉給|转给|交給|交给)"
                       r"\s*(?P<member>.+?)\s*(?:負責|负责|跟進|跟进|處理|处理|接手)?\s*(?:吧|了)?\s*[。.!！]?\s*$")
EN_PHRASE = re.compile(r"^\s*(?:please\s+)?(?:hand(?:\s+over)?|transfer|reassign)\s+(?P<customer>.+?)\s+(?:over\s+)?"
                       r"to\s+(?P<member>.+?)\s*[.!]?\s*$", re.IGNORECASE)
COVER_UNTIL = re.compile(r"^(?P<names>.+?)\s*(?:\buntil\b|\btill\b|直到|到|至)\s*(?P<day>[^\s]+(?:\s+\w+)?)\s*$",
                         re.IGNORECASE)


# -- the command -------------------------------------------------------------------------------------------------
@command("handover")
def handover_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("handover.not_allowed"))]
    args = ctx.incoming.args.strip()
    if not args:
        return _choose_giver(ctx)
    pair = _split(ctx, args)
    if pair is None:
        return [Reply(ctx.t("handover.usage"))]
    first, second = pair
    receiver = handover.member_named(ctx.uow, ctx.actor, second, active_only=True)
    if receiver is None:
        return [Reply(ctx.t("handover.no_member", name=esc(second)))]
    giver = handover.member_named(ctx.uow, ctx.actor, first)
    if giver is not None:
        return _scope(ctx, giver.id, receiver.id)
    customer = handover.customer_named(ctx.uow, ctx.actor, first)
    if customer is not None:
        return _one_customer(ctx, customer, receiver)
    return [Reply(ctx.t("handover.no_member", name=esc(first)))]


def _split(ctx: Ctx, args: str) -> tuple[str, str] | None:
    """`陳小姐 to 王大明`, `陳小姐 給 王大明`, or two names side by side (`陳小姐 王大明`, `Amy Lin Bob`)."""
    parts = [p.strip() for p in SEPARATOR.split(args, maxsplit=1)]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    words = args.split()
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if handover.member_named(ctx.uow, ctx.actor, second, active_only=True) is not None and (
                handover.member_named(ctx.uow, ctx.actor, first) is not None
                or handover.customer_named(ctx.uow, ctx.actor, first) is not None):
            return first, second
    return (words[0], words[1]) if len(words) == 2 else None


def handover_phrase(ctx: Ctx) -> list[Reply] | None:
    """The note hook: "把大同五金行轉給小红負責", "hand Acme over to Bob" → that customer's handover (confirm first).
    Strict: only when the words name one known customer and one active member of the team; else None (a note)."""
    assert isinstance(ctx.incoming, TextIn)
    text = ctx.incoming.text
    if ctx.incoming.env.forwarded is not None or len(text) > 120 or "\n" in text.strip():
        return None
    found = ZH_PHRASE.match(text) or EN_PHRASE.match(text)
    if found is None:
        return None
    receiver = handover.member_named(ctx.uow, ctx.actor, found["member"], active_only=True)
    if receiver is None:
        return None
    customer = handover.customer_named(ctx.uow, ctx.actor, found["customer"])
    if customer is None:
        return None
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("handover.not_allowed"))]
    return _one_customer(ctx, customer, receiver)


def _one_customer(ctx: Ctx, customer: CustomerRef, receiver: MemberRef) -> list[Reply]:
    giver = handover.owner_of(ctx.uow, ctx.actor, customer.id)
    values = {"customer": esc(customer.name), "receiver": esc(receiver.name)}
    if giver is None or giver.id == receiver.id:
        return [Reply(ctx.t("handover.already_theirs", **values))]
    text = ctx.t("handover.one_customer", giver=esc(giver.name), **values)
    return [Reply(text, buttons=_confirm_buttons(ctx, giver.id, receiver, f"c{customer.id}"))]


def _confirm_buttons(ctx: Ctx, giver_id: int, receiver: MemberRef, scope: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(ctx.t("handover.btn_confirm", receiver=esc(receiver.name)), f"ho:go:{giver_id}:{receiver.id}:{scope}"),
             Button(ctx.t("handover.btn_cancel"), "ho:x")),)


# -- the steps ---------------------------------------------------------------------------------------------------
def _label(ctx: Ctx, choice: MemberChoice) -> str:
    key = "handover.member_mark" if choice.member.active else "handover.removed_mark"
    return ctx.t(key, name=choice.member.name, customers=ctx.t("handover.customers", n=choice.customers))


def _choose_giver(ctx: Ctx) -> list[Reply]:
    choices = handover.givers(ctx.uow, ctx.actor)
    if not choices:
        return [Reply(ctx.t("handover.nobody"))]
    rows = tuple((Button(_label(ctx, c), f"ho:g:{c.member.id}"),) for c in choices[:20])
    return [Reply(ctx.t("handover.choose_giver"), buttons=rows)]


def _choose_receiver(ctx: Ctx, giver_id: int) -> list[Reply]:
    giver = _giver(ctx, giver_id)
    choices = handover.receivers(ctx.uow, ctx.actor, giver_id)
    if not choices:
        return [Reply(ctx.t("handover.no_receiver", giver=esc(giver.name)), edit=True)]
    rows = tuple((Button(_label(ctx, c), f"ho:r:{giver_id}:{c.member.id}"),) for c in choices[:20])
    return [Reply(ctx.t("handover.choose_receiver", giver=esc(giver.name)), buttons=rows, edit=True)]


def _giver(ctx: Ctx, giver_id: int) -> MemberRef:
    return handover.plan(ctx.uow, ctx.actor, giver_id, giver_id).giver


def _scope(ctx: Ctx, giver_id: int, receiver_id: int) -> list[Reply]:
    plan = handover.plan(ctx.uow, ctx.actor, giver_id, receiver_id)
    values = {"giver": esc(plan.giver.name), "receiver": esc(plan.receiver.name)}
    if not plan.customers:
        return [Reply(ctx.t("handover.already", **values), edit=True)]
    rows = ((Button(ctx.t("handover.btn_all", n=len(plan.customers)), f"ho:a:{giver_id}:{receiver_id}"),
             Button(ctx.t("handover.btn_some"), f"ho:p:{giver_id}:{receiver_id}:0")),
            (Button(ctx.t("handover.btn_cancel"), "ho:x"),))
    return [Reply(ctx.t("handover.choose_scope", **values), buttons=rows, edit=True)]


def _confirm(ctx: Ctx, giver_id: int, receiver_id: int, chosen: tuple[int, ...] | None, scope: str) -> list[Reply]:
    plan = handover.plan(ctx.uow, ctx.actor, giver_id, receiver_id, chosen)
    values = {"giver": esc(plan.giver.name), "receiver": esc(plan.receiver.name)}
    if not plan.customers:
        return [Reply(ctx.t("handover.already", **values), edit=True)]
    names = _names(ctx, [c.name for c in plan.customers])
    text = ctx.t("handover.confirm", customers=ctx.t("handover.customers", n=len(plan.customers)),
                 follow_ups=ctx.t("handover.follow_ups", n=plan.follow_ups),
                 deals=ctx.t("handover.deals", n=plan.deals), names=names, **values)
    return [Reply(text, buttons=_confirm_buttons(ctx, giver_id, plan.receiver, scope), edit=True)]


def _names(ctx: Ctx, names: list[str], shown: int = 12) -> str:
    glue = "、" if ctx.language.startswith("zh") else ", "
    text = glue.join(esc(n) for n in names[:shown])
    if len(names) > shown:
        text += " " + ctx.t("handover.received_more", n=len(names) - shown)
    return text


def _picked(ctx: Ctx, giver_id: int, receiver_id: int) -> list[int] | None:
    awaited = ctx.awaited(PICK)
    if awaited is None or awaited.payload.get("g") != giver_id or awaited.payload.get("r") != receiver_id:
        return None
    return [int(i) for i in awaited.payload.get("sel", [])]


def _pick_page(ctx: Ctx, giver_id: int, receiver_id: int, page: int, chosen: list[int]) -> list[Reply]:
    customers = handover.customers_of(ctx.uow, ctx.actor, giver_id)
    plan = handover.plan(ctx.uow, ctx.actor, giver_id, receiver_id, ())
    pages = max(1, -(-len(customers) // handover.PAGE))
    page = min(max(page, 0), pages - 1)
    ctx.await_answer(PICK, {"g": giver_id, "r": receiver_id, "sel": chosen}, minutes=PICK_MINUTES)
    rows: list[tuple[Button, ...]] = []
    for customer in customers[page * handover.PAGE:(page + 1) * handover.PAGE]:
        mark = "✅" if customer.id in chosen else "⬜"
        rows.append((Button(f"{mark} {customer.name}", f"ho:t:{giver_id}:{receiver_id}:{customer.id}:{page}"),))
    paging = []
    if page > 0:
        paging.append(Button(ctx.t("handover.btn_prev"), f"ho:p:{giver_id}:{receiver_id}:{page - 1}"))
    if page + 1 < pages:
        paging.append(Button(ctx.t("handover.btn_next"), f"ho:p:{giver_id}:{receiver_id}:{page + 1}"))
    if paging:
        rows.append(tuple(paging))
    rows.append((Button(ctx.t("handover.btn_picked", n=len(chosen)), f"ho:c:{giver_id}:{receiver_id}"),
                 Button(ctx.t("handover.btn_cancel"), "ho:x")))
    text = ctx.t("handover.pick", giver=esc(plan.giver.name), receiver=esc(plan.receiver.name), page=page + 1,
                 pages=pages, chosen=len(chosen))
    return [Reply(text, buttons=tuple(rows), edit=True)]


def _go(ctx: Ctx, giver_id: int, receiver_id: int, scope: str) -> list[Reply]:
    chosen: tuple[int, ...] | None
    if scope == "a":
        chosen = None
    elif scope == "s":
        picked = _picked(ctx, giver_id, receiver_id)
        if picked is None:
            return [Reply(ctx.t("handover.pick_expired"))]
        chosen = tuple(picked)
    elif scope.startswith("c") and scope[1:].isdigit():
        chosen = (int(scope[1:]),)
    else:
        return [Reply(ctx.t("core.stale_button"))]
    return _handed(ctx, handover.hand_over(ctx.uow, ctx.actor, ctx.now, giver_id, receiver_id, chosen))


def _handed(ctx: Ctx, result: HandoverResult) -> list[Reply]:
    values = {"giver": esc(result.giver.name), "receiver": esc(result.receiver.name)}
    if result.status is HandoverStatus.MOVED:
        text = ctx.t("handover.done", customers=ctx.t("handover.customers", n=len(result.customers)),
                     follow_ups=ctx.t("handover.follow_ups", n=result.follow_ups),
                     deals=ctx.t("handover.deals", n=result.deals), **values)
        return [Reply(text, edit=True)]
    key = {HandoverStatus.ALREADY: "handover.already", HandoverStatus.SAME: "handover.same",
           HandoverStatus.RECEIVER_GONE: "handover.receiver_gone"}[result.status]
    return [Reply(ctx.t(key, **values), notice=ctx.t(key, **values))]


@button("ho")
def handover_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb, raw = (parts[0], parts[1:]) if parts else ("", [])
    if verb == "x":
        return [Reply(ctx.t("handover.cancelled"), edit=True)]
    if not ctx.actor.sees_whole_team:  # a forged or old button of a member who is not (or no longer) a manager
        return [Reply(ctx.t("handover.not_allowed"))]
    scope = raw.pop() if verb == "go" and len(raw) == 3 else ""
    if not all(p.isascii() and p.isdigit() for p in raw):
        return [Reply(ctx.t("core.stale_button"))]
    ids = [int(p) for p in raw]
    shapes = {"g": 1, "r": 2, "a": 2, "p": 3, "t": 4, "c": 2, "go": 2}
    if shapes.get(verb) != len(ids):
        return [Reply(ctx.t("core.stale_button"))]
    if verb == "g":
        return _choose_receiver(ctx, ids[0])
    if verb == "r":
        return _scope(ctx, ids[0], ids[1])
    if verb == "a":
        return _confirm(ctx, ids[0], ids[1], None, "a")
    if verb == "p":
        return _pick_page(ctx, ids[0], ids[1], ids[2], _picked(ctx, ids[0], ids[1]) or [])
    if verb == "t":
        chosen = _picked(ctx, ids[0], ids[1]) or []
        owned = {c.id for c in handover.customers_of(ctx.uow, ctx.actor, ids[0])}
        if ids[2] in owned:
            chosen = [c for c in chosen if c != ids[2]] if ids[2] in chosen else [*chosen, ids[2]]
        return _pick_page(ctx, ids[0], ids[1], ids[3], [c for c in chosen if c in owned])
    if verb == "c":
        picked = _picked(ctx, ids[0], ids[1])
        if picked is None:
            return [Reply(ctx.t("handover.pick_expired"))]
        if not picked:
            return [Reply(ctx.t("handover.none_picked"), notice=ctx.t("handover.none_picked"))]
        return _confirm(ctx, ids[0], ids[1], tuple(picked), "s")
    return _go(ctx, ids[0], ids[1], scope)


# -- cover -------------------------------------------------------------------------------------------------------
@command("cover")
def cover_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    args = ctx.incoming.args.strip()
    if not args:
        return [Reply(ctx.t("handover.cover_usage"))]
    head, _, rest = args.partition(" ")
    if head.casefold() in ("off", "end", "stop", "結束", "结束", "取消"):
        member = handover.member_named(ctx.uow, ctx.actor, rest.strip()) if rest.strip() else None
        if member is None:
            return [Reply(ctx.t("handover.no_member", name=esc(rest.strip())))]
        try:
            ended = handover.end_cover(ctx.uow, ctx.actor, ctx.now, member.id)
        except NotAllowed:
            return [Reply(ctx.t("handover.cover_not_allowed"))]
        if ended.status is CoverStatus.NONE:
            return [Reply(ctx.t("handover.cover_none", member=esc(member.name)))]
        return [Reply(ctx.t("handover.cover_ended", member=esc(member.name),
                            cover=esc(ended.cover.name if ended.cover else "")))]
    found = COVER_UNTIL.match(args)
    if found is None:
        member = handover.member_named(ctx.uow, ctx.actor, args)
        if member is None:
            return [Reply(ctx.t("handover.cover_usage"))]
        current = handover.cover_of(ctx.uow, ctx.actor, ctx.now, member.id)
        if current.status is CoverStatus.NONE or current.cover is None:
            return [Reply(ctx.t("handover.cover_none", member=esc(member.name)))]
        return [Reply(ctx.t("handover.cover_current", member=esc(member.name), cover=esc(current.cover.name),
                            until=current.until.isoformat() if current.until else ""))]
    return _start_cover(ctx, found["names"].strip(), found["day"].strip())


def _start_cover(ctx: Ctx, names: str, day: str) -> list[Reply]:
    pair = _two_members(ctx, names)
    if isinstance(pair, str):
        return [Reply(ctx.t("handover.no_member", name=esc(pair)))]
    member, cover = pair
    try:
        until = handover.read_until(ctx.actor, ctx.now, day)
    except InvalidInput:
        return [Reply(ctx.t("handover.cover_bad_date"))]
    values = {"member": esc(member.name), "cover": esc(cover.name), "until": until.isoformat()}
    if member.id == cover.id:
        return [Reply(ctx.t("handover.cover_self", **values))]
    try:
        started = handover.start_cover(ctx.uow, ctx.actor, ctx.now, member.id, cover.id, until)
    except NotAllowed:
        return [Reply(ctx.t("handover.cover_not_allowed"))]
    except InvalidInput as error:
        if "passed" in str(error):
            return [Reply(ctx.t("handover.cover_past"))]
        return [Reply(ctx.t("handover.no_member", name=esc(cover.name)))]
    key = "handover.cover_same" if started.status is CoverStatus.SAME else "handover.cover_started"
    return [Reply(ctx.t(key, **values))]


def _two_members(ctx: Ctx, names: str) -> tuple[MemberRef, MemberRef] | str:
    """Two members' names side by side (the absent one first); the name not understood otherwise."""
    words = names.split()
    for cut in range(1, len(words)):
        first = handover.member_named(ctx.uow, ctx.actor, " ".join(words[:cut]))
        second = handover.member_named(ctx.uow, ctx.actor, " ".join(words[cut:]), active_only=True)
        if first is not None and second is not None:
            return first, second
    if len(words) >= 2 and handover.member_named(ctx.uow, ctx.actor, words[0]) is not None:
        return " ".join(words[1:])
    return words[0] if words else names

