"""Import a parsed chat for the local (console) member: the chat's import flow, asking on the terminal where
the chat asks with buttons (which participant is you, which customer, which promises to schedule)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer

from bot.bootstrap import ChatCRM, build
from core.exports import ParsedConversation
from core.ports import Clock
from core.schema import upgrade_schema
from core.services.actor import Actor
from core.settings import Settings
from core.uow import UnitOfWork, unit_of_work
from core.usecases import chat_imports
from core.usecases.chat_imports import ImportView
from core.usecases.customers import recent_customers
from core.usecases.team import Newcomer, local_owner

LOCAL_USER = ("console", "local", "Local owner")  # the console adapter's identity
CHOICES = 8


@contextmanager
def as_local_owner(settings: Settings, *, clock: Clock | None = None) -> Iterator[tuple[ChatCRM, UnitOfWork, Actor]]:
    """What a CLI command runs in: the app built on the settings' database (schema upgraded), one unit of work,
    and the terminal's owner acting in it (founded on the first run). The engine is closed afterwards."""
    crm = build(settings, clock=clock)
    upgrade_schema(crm.engine)
    platform, user_id, name = LOCAL_USER
    try:
        with unit_of_work(crm.engine) as uow:
            yield crm, uow, local_owner(uow, Newcomer(platform, user_id, user_id, name,
                                                      language=settings.default_language,
                                                      timezone=settings.default_timezone,
                                                      country=settings.default_country))
    finally:
        crm.engine.dispose()


def import_locally(settings: Settings, conversation: ParsedConversation, tz: str, *,
                   interactive: bool, clock: Clock | None = None) -> dict[str, Any]:
    """One unit of work: store, file on a customer, schedule the accepted proposals. Returns a JSON summary.

    Without `interactive` (--yes, --json) nothing is asked: a chat with an unknown customer is filed on a new
    customer named like the chat (what "New customer" does in the chat), and no proposal is scheduled.
    A follow-up scheduled here is picked up by the running bot's dispatcher sweep."""
    return import_all_locally(settings, [conversation], tz, interactive=interactive, clock=clock)[0]


def import_all_locally(settings: Settings, conversations: Sequence[ParsedConversation], tz: str, *,
                       interactive: bool, clock: Clock | None = None) -> list[dict[str, Any]]:
    """Each conversation (the chats of an account export, `--all`) imported as its own, in one unit of work."""
    with as_local_owner(settings, clock=clock) as (app, uow, actor):
        summaries = []
        for conversation in conversations:
            if len(conversations) > 1 and interactive:
                typer.echo(f"— {conversation.title or ', '.join(conversation.participants[:2])}")
            summaries.append(_import_one(uow, actor, app.clock.now(), conversation, tz, interactive))
        return summaries


def _import_one(uow: UnitOfWork, actor: Actor, now: datetime, conversation: ParsedConversation, tz: str,
                interactive: bool) -> dict[str, Any]:
    view = chat_imports.import_conversation(uow, actor, now, conversation, tz=tz)
    scheduled = 0
    if view.interaction_id is not None:
        view = _answer(uow, actor, view, interactive)
        for proposal in view.proposals if interactive else ():
            if typer.confirm(f"Schedule '{proposal.action}' for {proposal.due:%Y-%m-%d %H:%M}? "
                             f"(\"{proposal.quote[:60]}\")"):
                view = chat_imports.accept_proposal(uow, actor, view.interaction_id or 0, proposal.index) or view
                scheduled += 1
    return summary_json(view, scheduled)


def _answer(uow: UnitOfWork, actor: Actor, view: ImportView, interactive: bool) -> ImportView:
    """What the chat asks with buttons: which participant is the member, which customer the chat is with."""
    iid = view.interaction_id or 0
    if interactive and not view.me and len(view.participants) >= 2:
        picked = _choose("Which participant is you?", list(view.participants))
        if picked is not None:
            view = chat_imports.set_member_side(uow, actor, iid, picked) or view
    if view.customer is not None:
        return view
    if not interactive:
        return chat_imports.file_on_new_customer(uow, actor, iid) if view.mention else view
    candidates = list(view.candidates or recent_customers(uow, actor, limit=CHOICES))
    typer.echo("Which customer is this chat with?")
    for index, candidate in enumerate(candidates, 1):
        typer.echo(f"  {index}. {candidate.name}")
    typer.echo(f"  0. a new customer{f' ({view.mention})' if view.mention else ''}")
    picked = ask_number("Customer", 0, len(candidates), default=0)
    if picked:
        return chat_imports.file_import(uow, actor, iid, candidates[picked - 1].id)
    if view.mention:
        return chat_imports.file_on_new_customer(uow, actor, iid)
    return chat_imports.file_on_typed_name(uow, actor, iid, typer.prompt("Customer's name"))


def _choose(question: str, options: list[str]) -> int | None:
    for index, option in enumerate(options, 1):
        typer.echo(f"  {index}. {option}")
    typer.echo("  0. none of them")
    picked = ask_number(question, 0, len(options))
    return picked - 1 if picked else None


def ask_number(question: str, low: int, high: int, *, default: int | None = None) -> int:
    """A number from `low` to `high` typed on the terminal (asked again until it is one)."""
    def read(typed: object) -> int:
        text = str(typed).strip()
        if text.isdigit() and low <= int(text) <= high:
            return int(text)
        raise typer.BadParameter(f"type a number from {low} to {high}")
    answer: int = typer.prompt(question, default=default, value_proc=read)
    return answer


def summary_json(view: ImportView, scheduled: int) -> dict[str, Any]:
    """`chatcrm import-chat --json`: what was stored, on whom, and what was proposed and scheduled."""
    return {"format": view.format, "added": view.messages, "duplicates": view.duplicates,
            "first": view.first.isoformat() if view.first else None,
            "last": view.last.isoformat() if view.last else None,
            "customer": view.customer.name if view.customer else None, "me": view.me,
            "interaction_id": view.interaction_id,
            "proposals": [{"due": p.due.isoformat(), "action": p.action, "quote": p.quote} for p in view.proposals],
            "scheduled": scheduled}
