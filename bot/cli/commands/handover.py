"""`chatcrm handover --from NAME --to NAME [--customer NAME]... [--json]`: hand a member's customers (all, or the
named ones) with their open follow-ups and deals to another active member, as the local owner (the console's
owner, or the team's first owner). Run twice, the second run moves nothing ("already handed over").

`--json` prints {"status": "moved"|"already"|"same"|"receiver_gone", "from", "to", "customers": [names],
"follow_ups": n, "deals": n}."""

from __future__ import annotations

import json
from typing import NoReturn

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm handover: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("handover")
    def handover_command(
        giver: str = typer.Option(..., "--from", help="The member whose customers move (by name)."),
        receiver: str = typer.Option(..., "--to", help="The active member who receives them (by name)."),
        customer: list[str] = typer.Option(None, "--customer", help="Only this customer (repeatable)."),
        as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    ) -> None:
        """Hand a member's customers, open follow-ups and open deals over to a colleague."""
        from bot.cli.local_import import as_local_owner
        from core.settings import SettingsError, load_settings
        from core.usecases import handover

        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        with as_local_owner(settings) as (crm, uow, actor):
            source = handover.member_named(uow, actor, giver)
            target = handover.member_named(uow, actor, receiver, active_only=True)
            if source is None:
                _fail(f"no member named {giver!r} in the team")
            if target is None:
                _fail(f"no active member named {receiver!r} in the team")
            chosen: tuple[int, ...] | None = None
            if customer:
                found = []
                for wanted in customer:
                    ref = handover.customer_named(uow, actor, wanted)
                    if ref is None:
                        _fail(f"no customer named {wanted!r}")
                    found.append(ref.id)
                chosen = tuple(found)
            result = handover.hand_over(uow, actor, crm.clock.now(), source.id, target.id, chosen)
            events = list(uow.events)
        del events  # the summary and the old owner's message go out from a running bot only
        if as_json:
            typer.echo(json.dumps({"status": result.status.value, "from": result.giver.name,
                                   "to": result.receiver.name, "customers": [c.name for c in result.customers],
                                   "follow_ups": result.follow_ups, "deals": result.deals}, ensure_ascii=False))
        elif result.status is handover.HandoverStatus.MOVED:
            typer.echo(f"Handed over from {result.giver.name} to {result.receiver.name}: "
                       f"{len(result.customers)} customer(s), {result.follow_ups} open follow-up(s), "
                       f"{result.deals} open deal(s).")
        elif result.status is handover.HandoverStatus.ALREADY:
            typer.echo(f"Already handed over: nothing of {result.giver.name}'s is left to move.")
        else:
            _fail(f"cannot hand over ({result.status.value})")
