"""Import a parsed chat for the local (console) member, asking on the terminal where the chat would ask."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from core.db import make_engine, session_scope, upgrade
from core.exports import ParsedConversation
from core.services import chat_import, followups
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.teams import Newcomer, ensure_local_owner
from core.settings import Settings
from core.understanding import parse_note

LOCAL_USER = ("console", "local", "Local owner")  # the console adapter's identity


def import_locally(settings: Settings, conversation: ParsedConversation, tz: str, *,
                   interactive: bool) -> dict[str, Any]:
    """One transaction: store, file on a customer, schedule the accepted proposals. Returns a JSON summary."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    platform, user_id, name = LOCAL_USER
    try:
        with session_scope(engine) as session:
            member = ensure_local_owner(session, Newcomer(platform, user_id, user_id, name,
                                                          language=settings.default_language,
                                                          timezone=settings.default_timezone,
                                                          country=settings.default_country))
            actor = Actor.of(member)
            me = chat_import.member_side(conversation.participants, chat_import.known_names(session, member))
            if me is None and interactive and len(conversation.participants) >= 2:
                me = _choose("Which participant is you?", conversation.participants, allow_none=True)
            others = [p for p in conversation.participants if p != me]
            customer = chat_import.guess_customer(session, actor, others, conversation.title)
            mention = conversation.title or (others[0] if len(others) == 1 else None)
            if customer is None and interactive:
                customer = _ask_customer(session, actor, mention)
            elif customer is None and mention:  # --yes: what "New customer: <name>" would do in the chat
                customer = customer_service.create_customer(session, actor, mention)
            result = chat_import.store_conversation(session, actor, conversation.messages, fmt=conversation.format,
                                                    title=conversation.title, me=me, customer=customer,
                                                    note_parser=parse_note, now=datetime.now(UTC), tz=tz)
            scheduled = 0
            for proposal in result.proposals:
                if interactive and typer.confirm(f"Schedule '{proposal.action}' for "
                                                 f"{proposal.due:%Y-%m-%d %H:%M}? (\"{proposal.quote[:60]}\")"):
                    followups.schedule(session, actor, due_at=proposal.due, action=proposal.action,
                                       customer_id=customer.id if customer else None,
                                       source_interaction_id=result.interaction.id if result.interaction else None)
                    scheduled += 1
            return {"format": conversation.format, "added": result.added, "duplicates": result.duplicates,
                    "first": result.first.isoformat() if result.first else None,
                    "last": result.last.isoformat() if result.last else None,
                    "customer": customer.name if customer else None, "me": me,
                    "interaction_id": result.interaction.id if result.interaction else None,
                    "proposals": [p.as_json() for p in result.proposals], "scheduled": scheduled}
    finally:
        engine.dispose()


def _choose(question: str, options: list[str], *, allow_none: bool) -> str | None:
    for index, option in enumerate(options, 1):
        typer.echo(f"  {index}. {option}")
    if allow_none:
        typer.echo("  0. none of them")
    picked = typer.prompt(question, type=typer.IntRange(0 if allow_none else 1, len(options)))
    return options[picked - 1] if picked else None


def _ask_customer(session, actor: Actor, mention: str | None):
    candidates = list(customer_service.resolve_customer(session, actor, mention).candidates) if mention else []
    candidates = candidates or customer_service.list_customers(session, actor, limit=8)
    labels = [c.name for c in candidates]
    typer.echo("Which customer is this chat with?")
    for index, label in enumerate(labels, 1):
        typer.echo(f"  {index}. {label}")
    typer.echo(f"  0. a new customer{f' ({mention})' if mention else ''}")
    picked = typer.prompt("Customer", type=typer.IntRange(0, len(labels)), default=0)
    if picked:
        return candidates[picked - 1]
    name = mention or typer.prompt("New customer's name")
    return customer_service.create_customer(session, actor, name)
