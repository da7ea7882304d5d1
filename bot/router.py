"""Routing: commands (by the one table in `bot.commands`), buttons by payload prefix, content by kind, and
the handler of an awaited answer.

Handler modules in `bot/handlers/` register themselves with the decorators below and are imported by
`load_handlers()`. A handler takes a `Ctx` (and, for buttons and awaited answers, their arguments) and
returns replies, sync or async.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot import commands, group_privacy
from bot.context import Ctx
from core.chat import ButtonIn, CommandIn, ContactIn, EditedIn, FileIn, Reply, TextIn, VoiceIn

Handler = Callable[..., "Sequence[Reply] | Awaitable[Sequence[Reply]]"]


@dataclass(frozen=True)
class Route:
    handler: Handler
    public: bool = False  # may run for someone who is not a member yet


COMMANDS: dict[str, Route] = {}  # canonical command name → route
BUTTONS: dict[str, Route] = {}
CONTENT: dict[str, Route] = {}  # "text", "voice", "file", "contact", "edit"
STATES: dict[str, Route] = {}  # what the bot waits for in a chat → the handler of the next text
CONTENT_KINDS = {VoiceIn: "voice", FileIn: "file", ContactIn: "contact", EditedIn: "edit"}


def command(name: str) -> Callable[[Handler], Handler]:
    """Handle the command `name` of `bot.commands.TABLE` (under every name it has there)."""
    spec = commands.resolve(name)
    if spec is None or spec.name != name:
        raise KeyError(f"{name!r} is not a command of bot.commands.TABLE")

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Route(handler, spec.public)
        return handler
    return register


def button(prefix: str, public: bool = False) -> Callable[[Handler], Handler]:
    """Payloads look like `prefix:verb:args`; the handler gets the split parts after the prefix."""
    def register(handler: Handler) -> Handler:
        BUTTONS[prefix] = Route(handler, public)
        return handler
    return register


def content(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        CONTENT[kind] = Route(handler)
        return handler
    return register


def state(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        STATES[kind] = Route(handler)
        return handler
    return register


def load_handlers() -> None:
    from bot import handlers

    for info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda m: m.name):
        importlib.import_module(f"{handlers.__name__}.{info.name}")


def split_payload(payload: str) -> tuple[str, list[str]]:
    prefix, *rest = payload.split(":")
    return prefix, rest


async def call(route: Route, *args: Any) -> list[Reply]:
    result = route.handler(*args)
    if hasattr(result, "__await__"):
        result = await result
    return list(result or [])


async def dispatch(ctx: Ctx) -> list[Reply]:
    """Answer one update inside its unit of work; in a group, private answers go to the member's private chat
    (`bot.group_privacy`)."""
    refused = group_privacy.not_for_you(ctx)
    if refused is not None:
        return refused
    return group_privacy.route(ctx, await _dispatch(ctx))


async def _dispatch(ctx: Ctx) -> list[Reply]:
    incoming = ctx.incoming
    if isinstance(incoming, TextIn):
        if (found := _as_command(ctx, incoming)) is not None:
            incoming = ctx.incoming = found
        else:
            return await _text(ctx, incoming)
    route: Route | None
    args: tuple[Any, ...] = ()
    if isinstance(incoming, CommandIn):
        spec = commands.resolve(incoming.command)
        route = COMMANDS.get(spec.name) if spec else None
        if route is None:
            ctx.stop_waiting()  # any command leaves a question, even one we do not know
            return [Reply(ctx.t("core.unknown_command", command=ctx.commands.style.written(incoming.command)))]
        if spec is not None and spec.name != incoming.command:
            ctx.incoming = CommandIn(incoming.env, spec.name, incoming.args)
        ctx.stop_waiting()
    elif isinstance(incoming, ButtonIn):
        prefix, parts = split_payload(incoming.payload)
        route, args = BUTTONS.get(prefix), (parts,)
        if route is None:
            return [Reply(ctx.t("core.stale_button"), notice=ctx.t("core.stale_button"))]
    else:
        kind = CONTENT_KINDS[type(incoming)]
        route = CONTENT.get(kind)
        if route is None:
            return [] if kind == "edit" else [Reply(ctx.t("core.cannot_handle"))]  # an edit nobody handles: ignored
    if ctx.member is None and not route.public:
        return [Reply(ctx.t("core.not_member"))]
    return await call(route, ctx, *args)


def _as_command(ctx: Ctx, incoming: TextIn) -> CommandIn | None:
    """On a platform where bare words are commands (Slack DMs), `todo` or `digest 07:45` is that command."""
    if incoming.env.forwarded is not None or not ctx.commands.style.bare_words:
        return None
    found = commands.bare_command(incoming.text)
    if found is None:
        return None
    spec, args = found
    return CommandIn(incoming.env, spec.name, args)


async def _text(ctx: Ctx, incoming: TextIn) -> list[Reply]:
    text, limit = incoming.text, ctx.settings.max_message_chars
    if not text.strip():
        return [Reply(ctx.t("core.empty_message"))]
    if len(text) > limit:
        return [Reply(ctx.t("core.too_long", limit=limit))]
    if ctx.member is None:
        return [Reply(ctx.t("core.not_member"))]
    awaited = ctx.awaited()
    if awaited is not None and awaited.kind in STATES and incoming.env.forwarded is None:
        ctx.stop_waiting()
        return await call(STATES[awaited.kind], ctx, awaited.payload)
    return await call(CONTENT["text"], ctx)
