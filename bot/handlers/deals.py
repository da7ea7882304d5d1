"""/deal (a customer's deals, or a new one), /pipeline (the funnel), /stages (managers change the stages), and
the deal buttons (`dl:` payloads, each well under 64 bytes; pressing one twice changes nothing more).

The views come from `core.usecases.deals`; this module only renders them. Amounts are drawn with Babel in the
member's locale.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import Ctx
from bot.deal_proposals import money_text, short
from bot.note_cards import distinct_labels, note_replies
from bot.render import esc, when
from bot.router import button, command, state
from core.chat import Button, CommandIn, Reply, TextIn
from core.services.errors import InvalidInput, NotAllowed, NotFound, ServiceError
from core.usecases import customers, deal_proposals, deals, notes, payments
from core.usecases.deals import DealView, Money, StageTotals
from core.usecases.views import CustomerRef

PER_ROW = 3
SHOWN = 10
LOST_REASON, STAGE_NAME, NEW_STAGE, DEAL_NOTE = "deal_lost_reason", "stage_name", "stage_new", "deal_note"
CLOSE_DATE = "deal_close_date"
MAX_TRIES = 6  # customer names of up to this many words in `/deal NAME title amount`


def _sums(ctx: Ctx, amounts: Sequence[Money]) -> str:
    return " + ".join(money_text(m.amount, m.currency, ctx.language) for m in amounts)


def _refusal(ctx: Ctx, error: ServiceError) -> list[Reply]:
    if isinstance(error, NotAllowed):
        return [Reply(ctx.t("deals.not_yours"))]
    if isinstance(error, NotFound) and error.details.get("key") is not None:
        return [Reply(ctx.t("deals.unknown_stage"))]
    if isinstance(error, NotFound):
        return [Reply(ctx.t("deals.gone"))]
    if isinstance(error, InvalidInput) and str(error) in ("amount", "currency"):
        return [Reply(ctx.t("deals.bad_amount"))]
    return [Reply(ctx.t("errors.invalid_input"))]


# -- the deal card ------------------------------------------------------------------------------------------

def deal_card(ctx: Ctx, deal: DealView, *, note: str = "", edit: bool = False) -> Reply:
    lines = [note] if note else []
    lines.append(ctx.t("deals.card", title=esc(deal.title), customer=esc(deal.customer.name)))
    lines.append(ctx.t("deals.card_stage", stage=esc(deal.stage.name), probability=deal.probability))
    if deal.amount is not None and deal.currency:
        lines.append(ctx.t("deals.card_amount", amount=money_text(deal.amount, deal.currency, ctx.language)))
    if deal.expected_close is not None:
        lines.append(ctx.t("deals.card_close", date=deal.expected_close.isoformat()))
    if deal.owner_name:
        lines.append(ctx.t("deals.card_owner", owner=esc(deal.owner_name)))
    if deal.lost_reason:
        lines.append(ctx.t("deals.card_lost", reason=esc(deal.lost_reason)))
    return Reply("\n".join(lines), buttons=stage_rows(ctx, deal), edit=edit)


def stage_rows(ctx: Ctx, deal: DealView) -> tuple[tuple[Button, ...], ...]:
    """One button per other stage (the lost one asks for a reason), then the customer and a note."""
    buttons = []
    for stage in deals.stages(ctx.uow, ctx.actor):
        if stage.key == deal.stage.key:
            continue
        verb = "lost" if stage.outcome == "lost" else "mv"
        buttons.append(Button(stage.name, f"dl:{verb}:{deal.id}:{stage.key}"))
    rows = [tuple(buttons[i:i + PER_ROW]) for i in range(0, len(buttons), PER_ROW)]
    rows.append((Button(ctx.t("deals.btn_note"), f"dl:note:{deal.id}"),
                 Button(ctx.t("deals.btn_close_date"), f"dl:cd:{deal.id}"),
                 Button(ctx.t("deals.btn_customer"), f"c:open:{deal.customer.id}")))
    return tuple(rows)


def customer_deals(ctx: Ctx, customer: CustomerRef, *, edit: bool = False) -> Reply:
    found = deals.deals_for_customer(ctx.uow, ctx.actor, customer.id)
    name = esc(customer.name)
    lines = [ctx.t("deals.customer_header", customer=name, n=len(found)) if found
             else ctx.t("deals.customer_none", customer=name)]
    rows: list[tuple[Button, ...]] = []
    for deal in found[:SHOWN]:
        amount = (" · " + money_text(deal.amount, deal.currency, ctx.language)
                  if deal.amount is not None and deal.currency else "")
        lines.append(f"• {esc(deal.title)} · {esc(deal.stage.name)}{amount}")
        rows.append((Button(ctx.t("deals.btn_open", title=deal.title[:40]), f"dl:open:{deal.id}"),))
    rows.append((Button(ctx.t("deals.btn_new"), f"dl:new:{customer.id}"),))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


# -- /deal --------------------------------------------------------------------------------------------------

@command("deal")
def deal_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    args = " ".join(ctx.incoming.args.split())
    if not args:
        return _mine(ctx)
    words = args.split(" ")
    first = None
    for size in range(min(len(words), MAX_TRIES), 0, -1):
        match = customers.find_customer(ctx.uow, ctx.actor, " ".join(words[:size]))
        first = first or match
        if match.customer is not None:
            rest = " ".join(words[size:])
            break
    else:
        return _unclear(ctx, words[0], first)
    assert match.customer is not None
    try:
        if not rest:
            return [customer_deals(ctx, match.customer)]
        typed = deals.read_typed(ctx.actor, rest)
        created = deals.create_deal(ctx.uow, ctx.actor, ctx.now, match.customer.id, typed.title or match.customer.name,
                                    amount=typed.amount, currency=typed.currency)
    except ServiceError as error:
        return _refusal(ctx, error)
    return [deal_card(ctx, created, note=ctx.t("deals.created", customer=esc(match.customer.name)))]


def _mine(ctx: Ctx) -> list[Reply]:
    mine = deals.open_deals(ctx.uow, ctx.actor, limit=SHOWN)
    if not mine:
        return [Reply(ctx.t("deals.mine_none"))]
    lines = [ctx.t("deals.mine_header", n=len(mine))]
    rows = []
    for deal in mine:
        amount = (" · " + money_text(deal.amount, deal.currency, ctx.language)
                  if deal.amount is not None and deal.currency else "")
        lines.append(f"• <b>{esc(deal.customer.name)}</b> · {esc(deal.title)} · {esc(deal.stage.name)}{amount}")
        rows.append((Button(ctx.t("deals.btn_open", title=f"{deal.customer.name} {deal.title}"[:40]),
                            f"dl:open:{deal.id}"),))
    lines.append(ctx.t("deals.usage"))
    return [Reply("\n".join(lines), buttons=tuple(rows))]


def _unclear(ctx: Ctx, name: str, match: customers.CustomerMatch | None) -> list[Reply]:
    if match is not None and match.colleagues is not None:
        return [Reply(ctx.t("deals.not_yours"))]
    if match is not None and match.candidates:
        shown = list(match.candidates[:8])
        rows = tuple((Button(label, f"dl:cust:{c.id}"),) for c, label in zip(shown, distinct_labels(shown),
                                                                                   strict=True))
        return [Reply(ctx.t("deals.customer_which", name=esc(name)), buttons=rows)]
    return [Reply(ctx.t("deals.customer_unknown", name=esc(name)))]


# -- buttons ------------------------------------------------------------------------------------------------

@button("dl")
def deal_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb, args = (parts[0], parts[1:]) if parts else ("", [])
    try:
        if verb == "open" and _ids(args, 1):
            return [deal_card(ctx, deals.get_deal(ctx.uow, ctx.actor, int(args[0])))]
        if verb == "cust" and _ids(args, 1):
            card = customers.customer_card(ctx.uow, ctx.actor, int(args[0]))
            return [customer_deals(ctx, card.customer)]
        if verb == "new" and _ids(args, 1):
            card = customers.customer_card(ctx.uow, ctx.actor, int(args[0]))
            created = deals.create_deal(ctx.uow, ctx.actor, ctx.now, card.customer.id, card.customer.name)
            return [deal_card(ctx, created, note=ctx.t("deals.created", customer=esc(card.customer.name)))]
        if verb == "mv" and len(args) == 2 and args[0].isdigit():
            return _move(ctx, int(args[0]), args[1])
        if verb == "lost" and len(args) == 2 and args[0].isdigit():
            deal = deals.get_deal(ctx.uow, ctx.actor, int(args[0]))
            if deal.stage.key == args[1]:
                return [deal_card(ctx, deal, note=ctx.t("deals.already", stage=esc(deal.stage.name)), edit=True)]
            ctx.await_answer(LOST_REASON, {"deal": deal.id, "stage": args[1]})
            skip = Button(ctx.t("deals.btn_skip"), f"dl:mv:{deal.id}:{args[1]}")
            return [Reply(ctx.t("deals.ask_lost_reason", title=esc(deal.title)), buttons=((skip,),))]
        if verb == "note" and _ids(args, 1):
            deal = deals.get_deal(ctx.uow, ctx.actor, int(args[0]))
            ctx.await_answer(DEAL_NOTE, {"customer": deal.customer.name, "deal": deal.id})
            return [Reply(ctx.t("deals.note_prompt", customer=esc(deal.customer.name)))]
        if verb == "cd" and _ids(args, 1):
            deal = deals.get_deal(ctx.uow, ctx.actor, int(args[0]))
            ctx.await_answer(CLOSE_DATE, {"deal": deal.id})
            return [Reply(ctx.t("deals.ask_close_date", title=esc(deal.title)))]
        if verb in ("su", "sr") and len(args) == 1:
            return _stage_button(ctx, verb, args[0])
        if verb == "sa" and not args:
            if not ctx.actor.sees_whole_team:
                return [Reply(ctx.t("deals.stages_only_managers"))]
            ctx.await_answer(NEW_STAGE, {})
            return [Reply(ctx.t("deals.ask_new_stage"))]
    except ServiceError as error:
        return _refusal(ctx, error)
    return [Reply(ctx.t("core.stale_button"))]


def _ids(args: list[str], count: int) -> bool:
    return len(args) == count and all(a.isdigit() for a in args)


def _move(ctx: Ctx, deal_id: int, stage: str, reason: str | None = None, *, edit: bool = True) -> list[Reply]:
    before = deals.get_deal(ctx.uow, ctx.actor, deal_id)
    moved = deals.move_deal(ctx.uow, ctx.actor, ctx.now, deal_id, stage, reason)
    same = before.stage.key == moved.stage.key and before.lost_reason == moved.lost_reason
    key = "deals.already" if same else "deals.moved"
    return [deal_card(ctx, moved, note=ctx.t(key, stage=esc(moved.stage.name)), edit=edit)]


@state(LOST_REASON)
def lost_reason(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    try:
        return _move(ctx, int(payload.get("deal") or 0), str(payload.get("stage") or "lost"),
                     ctx.incoming.text, edit=False)
    except ServiceError as error:
        return _refusal(ctx, error)


@state(CLOSE_DATE)
def close_date(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    deal_id = int(payload.get("deal") or 0)
    try:
        expected = deals.read_close_date(ctx.actor, ctx.now, ctx.incoming.text)
        deal = deals.set_expected_close(ctx.uow, ctx.actor, ctx.now, deal_id, expected)
    except InvalidInput:
        ctx.await_answer(CLOSE_DATE, payload)
        return [Reply(ctx.t("deals.bad_close_date"))]
    except ServiceError as error:
        return _refusal(ctx, error)
    return [deal_card(ctx, deal)]


@state(DEAL_NOTE)
def deal_note(ctx: Ctx, payload: dict) -> list[Reply]:
    """The note typed after 📝: filed under the deal's customer (its name is read with the text)."""
    assert isinstance(ctx.incoming, TextIn)
    source = notes.Source.of(ctx.incoming.env)
    text = ctx.incoming.text
    result = notes.log_note(ctx.uow, ctx.actor, ctx.now,
                            notes.NoteInput(text, source, parse_text=f"{payload.get('customer', '')} {text}"))
    return note_replies(ctx, result)


# -- /pipeline ----------------------------------------------------------------------------------------------

def _stage_lines(ctx: Ctx, rows: Sequence[StageTotals]) -> list[str]:
    return [ctx.t("deals.pipeline_line", stage=esc(row.stage.name), n=row.deals, amounts=_sums(ctx, row.amounts))
            .rstrip() for row in rows]


@command("pipeline")
def pipeline(ctx: Ctx) -> list[Reply]:
    view = deals.pipeline(ctx.uow, ctx.actor, ctx.now)
    if not any(row.deals for row in view.totals):
        return [Reply(ctx.t("deals.pipeline_empty"))]
    lines = [ctx.t("deals.pipeline_team" if view.team_wide else "deals.pipeline_mine")]
    lines += _stage_lines(ctx, view.totals)
    lines.append(ctx.t("deals.forecast", amounts=_sums(ctx, view.forecast)) if view.forecast
                 else ctx.t("deals.forecast_none"))
    if view.team_wide:
        for member in view.members:
            lines += ["", ctx.t("deals.pipeline_member", name=esc(member.name or "—"))]
            lines += [line for line, row in zip(_stage_lines(ctx, member.stages), member.stages, strict=True)
                      if row.deals]
            if member.forecast:
                lines.append(ctx.t("deals.forecast", amounts=_sums(ctx, member.forecast)))
    rows: list[tuple[Button, ...]] = []
    if view.closing_this_month:
        lines += ["", ctx.t("deals.closing_header", n=len(view.closing_this_month))]
        for deal in view.closing_this_month:
            lines.append(_deal_line(ctx, deal))
    if view.stalled:
        lines += ["", ctx.t("deals.stalled_header", n=view.stalled_count, days=view.stalled_days)]
        for deal in view.stalled:
            lines.append(_deal_line(ctx, deal))
            rows.append((Button(ctx.t("deals.btn_open", title=f"{deal.customer.name} {deal.title}"[:40]),
                                f"dl:open:{deal.id}"),
                         Button(ctx.t("deals.btn_note"), f"dl:note:{deal.id}")))
    for deal in view.closing_this_month:
        if len(rows) < SHOWN * 2 and all(f"dl:open:{deal.id}" != row[0].payload for row in rows):
            rows.append((Button(ctx.t("deals.btn_open", title=f"{deal.customer.name} {deal.title}"[:40]),
                                f"dl:open:{deal.id}"),
                         Button(ctx.t("deals.btn_note"), f"dl:note:{deal.id}")))
    return [Reply("\n".join(lines), buttons=tuple(rows))]


def _deal_line(ctx: Ctx, deal: DealView) -> str:
    amount = (" · " + money_text(deal.amount, deal.currency, ctx.language)
              if deal.amount is not None and deal.currency else "")
    close = f" · {deal.expected_close.isoformat()}" if deal.expected_close else ""
    return f"• <b>{esc(deal.customer.name)}</b> · {esc(deal.title)} · {esc(deal.stage.name)}{amount}{close}"


# -- /stages ------------------------------------------------------------------------------------------------

def stages_reply(ctx: Ctx, *, note: str = "", edit: bool = False) -> Reply:
    shown = deals.stages(ctx.uow, ctx.actor)
    lines = [note] if note else []
    lines.append(ctx.t("deals.stages_header"))
    lines += [ctx.t("deals.stages_line", number=i, name=esc(s.name), probability=s.probability)
              for i, s in enumerate(shown, start=1)]
    if not ctx.actor.sees_whole_team:
        return Reply("\n".join(lines), edit=edit)
    lines.append(ctx.t("deals.stages_manager_hint"))
    rows = [(Button(f"⬆️ {s.name}"[:40], f"dl:su:{s.key}"), Button(f"✏️ {s.name}"[:40], f"dl:sr:{s.key}"))
            for s in shown]
    rows.append((Button(ctx.t("deals.btn_add_stage"), "dl:sa"),))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


@command("stages")
def stages(ctx: Ctx) -> list[Reply]:
    return [stages_reply(ctx)]


def _stage_button(ctx: Ctx, verb: str, key: str) -> list[Reply]:
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("deals.stages_only_managers"))]
    if verb == "su":
        deals.move_stage_up(ctx.uow, ctx.actor, key)
        return [stages_reply(ctx, edit=True)]
    if key not in {s.key for s in deals.stages(ctx.uow, ctx.actor)}:
        return [Reply(ctx.t("deals.unknown_stage"))]
    ctx.await_answer(STAGE_NAME, {"key": key})
    return [Reply(ctx.t("deals.ask_stage_name"))]


@state(STAGE_NAME)
def typed_stage_name(ctx: Ctx, payload: dict) -> list[Reply]:
    return _typed_stage(ctx, payload, STAGE_NAME)


@state(NEW_STAGE)
def typed_new_stage(ctx: Ctx, payload: dict) -> list[Reply]:
    return _typed_stage(ctx, payload, NEW_STAGE)


def _typed_stage(ctx: Ctx, payload: dict, kind: str) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    typed = ctx.incoming.text
    try:
        if kind == STAGE_NAME:
            stage = deals.rename_stage(ctx.uow, ctx.actor, str(payload.get("key") or ""), typed)
            return [stages_reply(ctx, note=ctx.t("deals.stage_renamed", name=esc(stage.name)))]
        stage = deals.add_stage(ctx.uow, ctx.actor, typed)
        return [stages_reply(ctx, note=ctx.t("deals.stage_added", name=esc(stage.name)))]
    except NotAllowed:
        return [Reply(ctx.t("deals.stages_only_managers"))]
    except InvalidInput as error:
        if str(error) == "too many stages":
            return [Reply(ctx.t("deals.too_many_stages", n=int(str(error.details.get("limit", 12)))))]
        ctx.await_answer(kind, payload)
        return [Reply(ctx.t("deals.bad_stage_name"))]
    except NotFound:
        return [Reply(ctx.t("deals.unknown_stage"))]


# -- proposals on the note card -----------------------------------------------------------------------------

@button("dp")
def proposal_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb, args = (parts[0], parts[1:]) if parts else ("", [])
    if not args or not all(a.isdigit() for a in args[:2]):
        return [Reply(ctx.t("core.stale_button"))]
    iid = int(args[0])
    try:
        if verb == "ok" and len(args) <= 3:
            deal_id = int(args[1]) if len(args) > 1 and args[1] != "0" else None
            stage = args[2] if len(args) > 2 else None
            view = deal_proposals.accept(ctx.uow, ctx.actor, ctx.now, iid, deal_id=deal_id, stage_key=stage)
            return [deal_card(ctx, view, note=ctx.t("deals.moved", stage=esc(view.stage.name)), edit=True)]
        if verb == "no" and len(args) == 1:
            deal_proposals.dismiss(ctx.uow, ctx.actor, iid)
            return [Reply(ctx.t("deals.not_a_deal"), edit=True)]
        if verb == "pk" and len(args) == 1:
            proposal = deal_proposals.propose(ctx.uow, ctx.actor, iid)
            if proposal is None:
                return [Reply(ctx.t("deals.proposal_gone"))]
            rows = tuple((Button(f"{short(c.title)} · {c.stage}", f"dp:ok:{iid}:{c.id}"),) for c in proposal.choices)
            rows += ((Button(ctx.t("deals.btn_new"), f"dp:ok:{iid}:0"),),)
            return [Reply(ctx.t("deals.which_deal"), buttons=rows)]
        if verb == "st" and len(args) <= 2:
            proposal = deal_proposals.propose(ctx.uow, ctx.actor, iid)
            if proposal is None:
                return [Reply(ctx.t("deals.proposal_gone"))]
            deal = args[1] if len(args) == 2 else str(proposal.deal.id if proposal.deal else 0)
            if proposal.kind == "pick" and len(args) == 1:
                rows = tuple((Button(f"{short(c.title)} · {c.stage}", f"dp:st:{iid}:{c.id}"),)
                             for c in proposal.choices)
                return [Reply(ctx.t("deals.which_deal"), buttons=rows)]
            shown = [Button(s.name, f"dp:ok:{iid}:{deal}:{s.key}") for s in deals.stages(ctx.uow, ctx.actor)]
            rows = tuple(tuple(shown[i:i + PER_ROW]) for i in range(0, len(shown), PER_ROW))
            return [Reply(ctx.t("deals.which_stage"), buttons=rows)]
    except ServiceError as error:
        return _refusal(ctx, error)
    return [Reply(ctx.t("core.stale_button"))]


# -- on the customer card (bot.handlers.customers) ----------------------------------------------------------

def card_lines_and_row(ctx: Ctx, customer_id: int, card_deals: Sequence) -> tuple[list[str], tuple[Button, ...]]:
    """The card's deal lines (stage names, amounts in the member's locale) and a row: the next stage of its most
    recent open deal, and all its deals."""
    row: tuple[Button, ...] = (Button(ctx.t("deals.btn_deals"), f"dl:cust:{customer_id}"),)
    lines = []
    for owed in payments.owed(ctx.uow, ctx.actor, customer_id)[:3]:  # money to collect, with "received"
        amount = money_text(owed.amount, owed.currency, ctx.language)
        lines.append(ctx.t("deals.owed_line", amount=amount,
                           due=when(owed.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)))
        row = (*row, Button(ctx.t("deals.btn_received", amount=amount), f"pay:rcv:{owed.follow_up_id}"))
    if not card_deals:
        return lines, row
    shown = deals.stages(ctx.uow, ctx.actor)
    by_key = {s.key: s for s in shown}
    for deal in card_deals:
        stage = by_key.get(deal.stage)
        amount = (" · " + money_text(deal.amount, deal.currency, ctx.language)
                  if deal.amount is not None and deal.currency else "")
        lines.append(f"💼 {esc(deal.title)} · {esc(stage.name if stage else deal.stage)}{amount}")
    current = next((d for d in card_deals if (s := by_key.get(d.stage)) is not None and s.outcome == "open"), None)
    if current is not None:
        position = by_key[current.stage].position
        later = next((s for s in shown if s.position > position and s.outcome != "lost"), None)
        if later is not None:
            row = (Button(f"💼 {short(current.title)} → {later.name}", f"dl:mv:{current.id}:{later.key}"), *row)
    return lines, row


@button("pay")
def payment_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    """💰 received: the payment follow-up is done (a second press says so)."""
    if len(parts) != 2 or parts[0] != "rcv" or not parts[1].isdigit():
        return [Reply(ctx.t("core.stale_button"))]
    try:
        owed, changed = payments.received(ctx.uow, ctx.actor, ctx.now, int(parts[1]))
    except ServiceError:
        return [Reply(ctx.t("deals.gone"))]
    amount = money_text(owed.amount, owed.currency, ctx.language)
    return [Reply(ctx.t("deals.received" if changed else "deals.received_already", amount=amount))]
