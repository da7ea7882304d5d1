"""The `chatcrm` command. Each module in `bot/cli/commands/` adds its sub-commands via `register(app)`."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from bot.cli import commands as _commands


def build_app() -> typer.Typer:
    app = typer.Typer(help="chatcrm: the CRM that lives in your chat app.", no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False)
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_commands.__name__}.{info.name}")
        module.register(app)
    return app


def main() -> None:
    build_app()()
