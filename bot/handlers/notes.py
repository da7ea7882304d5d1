"""Typed notes, /log, /new, and the confirmation buttons (change customer or date, no follow-up, undo)."""

from __future__ import annotations

from bot.context import Ctx
from bot.notes import ask_customer, card, follow_up_of, log_note, source_of
from bot.render import esc
from bot.router import button, command, content, state
from core.chat import Button, CommandIn, Reply, TextIn
from core.events import FollowUpsChanged
from core.models import Customer, Interaction
from core.services import customers as customer_service
from core.services import followups, interactions
from core.services.errors import NotFound
from core.text import match_key
from core.timeutil import next_week_morning, tomorrow_morning
from core.understanding import parse_when


@content("text")
def text_note(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    if ctx.incoming.env.forwarded is not None:
        from bot.forwards import forwarded_text

        return forwarded_text(ctx)
    return log_note(ctx, ctx.incoming.text, source=source_of(ctx))


@command("log")
def log_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    if not ctx.incoming.args.strip():
        return [Reply(ctx.t("notes.what_to_log"))]
    return log_note(ctx, ctx.incoming.args, source=source_of(ctx))


@command("new")
def new_customer(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return [Reply(ctx.t("customers.new_usage"))]
    resolution = customer_service.resolve_customer(ctx.uow.session, ctx.actor, name)
    if resolution.customer is not None and resolution.customer.name_key == match_key(name):
        return [Reply(ctx.t("customers.exists", name=esc(resolution.customer.name)),
                      buttons=((Button(ctx.t("customers.btn_open"), f"c:open:{resolution.customer.id}"),),))]
    created = customer_service.create_customer(ctx.uow.session, ctx.actor, name)
    return [Reply(ctx.t("customers.created", name=esc(created.name)),
                  buttons=((Button(ctx.t("customers.btn_open"), f"c:open:{created.id}"),),))]


def _interaction(ctx: Ctx, raw: str) -> Interaction:
    try:
        return interactions.get_own(ctx.uow.session, ctx.actor, int(raw))
    except ValueError as exc:
        raise NotFound("bad id") from exc


@button("n")
def note_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 2:
        return [Reply(ctx.t("core.stale_button"))]
    verb, interaction = parts[0], _interaction(ctx, parts[1])
    if interaction.deleted_at is not None and verb != "ud":
        return [Reply(ctx.t("notes.undone"), edit=True, notice=ctx.t("notes.undone"))]
    handler = _VERBS.get(verb)
    if handler is None:
        return [Reply(ctx.t("core.stale_button"))]
    return handler(ctx, interaction, parts[2:])


def _change_customer(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    return [ask_customer(ctx, interaction, edit=True)]


def _set_customer(ctx: Ctx, interaction: Interaction, args: list[str]) -> list[Reply]:
    if not args or not args[0].isdigit():
        return [Reply(ctx.t("core.stale_button"))]
    customer = customer_service.get_visible(ctx.uow.session, ctx.actor, int(args[0]))
    _file(ctx, interaction, customer, remember_mention=True)
    return [card(ctx, interaction, edit=True)]


def _file(ctx: Ctx, interaction: Interaction, customer: Customer, *, remember_mention: bool) -> None:
    assert customer.id is not None
    interactions.file_under(ctx.uow.session, ctx.actor, interaction.id or 0, customer.id)
    details = dict(interaction.details)
    mention = details.get("mention")
    if remember_mention and mention:
        customer_service.add_alias(ctx.uow.session, ctx.actor, customer, mention)
    contact = (details.get("draft") or {}).get("contact")
    if contact and interaction.contact_id is None:
        found = customer_service.find_contact(ctx.uow.session, customer.id, contact)
        found = found or customer_service.add_contact(ctx.uow.session, ctx.actor, customer.id, contact)
        interaction.contact_id = found.id
        ctx.uow.session.add(interaction)


def _new_customer(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    if interaction.customer_id is not None:
        return [card(ctx, interaction, edit=True)]  # pressed twice: already filed
    mention = interaction.details.get("mention")
    if not mention:
        return [Reply(ctx.t("core.stale_button"))]
    customer = customer_service.create_customer(ctx.uow.session, ctx.actor, mention)
    interaction.details = {**interaction.details, "new_customer": True}
    _file(ctx, interaction, customer, remember_mention=False)
    return [card(ctx, interaction, edit=True)]


def _type_name(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    ctx.await_answer("customer_name", {"interaction": interaction.id})
    return [Reply(ctx.t("notes.type_customer"))]


def _change_date(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    iid = interaction.id
    buttons = ((Button(ctx.t("notes.btn_tomorrow"), f"n:dt:{iid}:tm"), Button(ctx.t("notes.btn_next_week"),
                                                                             f"n:dt:{iid}:nw")),
               (Button(ctx.t("notes.btn_type_date"), f"n:td:{iid}"), Button(ctx.t("notes.btn_back"), f"n:bk:{iid}")))
    return [Reply(card(ctx, interaction).text + "\n\n" + ctx.t("notes.pick_date"), buttons=buttons, edit=True)]


def _set_date(ctx: Ctx, interaction: Interaction, args: list[str]) -> list[Reply]:
    choice = args[0] if args else ""
    due = {"tm": tomorrow_morning, "nw": next_week_morning}.get(choice)
    if due is None:
        return [Reply(ctx.t("core.stale_button"))]
    _set_due(ctx, interaction, due(ctx.now, ctx.tz), explicit=False)
    return [card(ctx, interaction, edit=True)]


def _set_due(ctx: Ctx, interaction: Interaction, due, *, explicit: bool) -> None:
    existing = follow_up_of(ctx, interaction)
    if existing is not None:
        followups.reschedule(ctx.uow.session, ctx.actor, existing.id or 0, due, explicit_time=explicit)
    else:
        action = ((interaction.details.get("draft") or {}).get("follow_up") or {}).get("action") or ""
        followups.schedule(ctx.uow.session, ctx.actor, due_at=due, action=action, customer_id=interaction.customer_id,
                           source_interaction_id=interaction.id, explicit_time=explicit)
    ctx.uow.publish(FollowUpsChanged())


def _type_date(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    ctx.await_answer("note_date", {"interaction": interaction.id})
    return [Reply(ctx.t("notes.type_date"))]


def _no_follow_up(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    existing = follow_up_of(ctx, interaction)
    if existing is not None:
        followups.cancel(ctx.uow.session, ctx.actor, existing.id or 0)
    return [card(ctx, interaction, edit=True)]


def _undo(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    _, changed = interactions.undo(ctx.uow.session, ctx.actor, interaction.id or 0)
    key = "notes.undone" if changed else "notes.already_undone"
    return [Reply(ctx.t(key), edit=True, notice=ctx.t(key))]


def _back(ctx: Ctx, interaction: Interaction, _: list[str]) -> list[Reply]:
    return [card(ctx, interaction, edit=True)]


_VERBS = {"cc": _change_customer, "sc": _set_customer, "nc": _new_customer, "tn": _type_name,
          "cd": _change_date, "dt": _set_date, "td": _type_date, "nf": _no_follow_up, "ud": _undo, "bk": _back}


@state("customer_name")
def typed_customer(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    interaction = _interaction(ctx, str(payload.get("interaction")))
    name = ctx.incoming.text.strip()
    resolution = customer_service.resolve_customer(ctx.uow.session, ctx.actor, name)
    if resolution.customer is None and resolution.candidates:
        return [ask_customer(ctx, interaction, candidates=list(resolution.candidates))]
    customer = resolution.customer or customer_service.create_customer(ctx.uow.session, ctx.actor, name)
    _file(ctx, interaction, customer, remember_mention=True)
    return [card(ctx, interaction)]


@state("note_date")
def typed_date(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    interaction = _interaction(ctx, str(payload.get("interaction")))
    due = parse_when(ctx.incoming.text, now=ctx.now, tz=ctx.tz)
    if due is None or due <= ctx.now:
        ctx.await_answer("note_date", payload)
        return [Reply(ctx.t("notes.bad_date"))]
    _set_due(ctx, interaction, due, explicit=True)
    return [card(ctx, interaction)]
