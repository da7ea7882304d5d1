"""Routing tables: commands by name, buttons by payload prefix, and one handler per content type.

Handler modules in `bot/handlers/` register themselves with the decorators below and are imported
by `load_handlers()`. A handler takes a `Ctx` and returns replies (sync or async).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.chat import Reply

Handler = Callable[..., "Sequence[Reply] | Awaitable[Sequence[Reply]]"]


@dataclass(frozen=True)
class Route:
    handler: Handler
    public: bool = False  # may run for someone who is not a member yet


COMMANDS: dict[str, Route] = {}
BUTTONS: dict[str, Route] = {}
CONTENT: dict[str, Route] = {}  # "text", "voice", "file", "contact"
STATES: dict[str, Route] = {}  # what the bot waits for in a chat → the handler of the next text


def command(*names: str, public: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = Route(handler, public)
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
