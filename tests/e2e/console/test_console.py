"""The console chat `make run` starts: `bot.run.serve` on a temporary SQLite file with scripted input,
and `chatcrm run` as a real process with its stdin piped."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.run import serve
from core.models import Customer, FollowUp, Interaction
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
Line = str | Callable[[str], str]


class ScriptedInput(io.TextIOBase):
    """stdin for the console: each line is text, or a function of everything printed so far."""

    def __init__(self, lines: list[Line], printed: io.StringIO) -> None:
        self.lines, self.printed, self.read = list(lines), printed, 0

    def readline(self, size: int = -1) -> str:
        if self.read == len(self.lines):
            return ""
        line = self.lines[self.read]
        self.read += 1
        return (line(self.printed.getvalue()) if callable(line) else line) + "\n"


def press(label: str) -> Callable[[str], str]:
    """Type the number of the button labelled `label` on the last keyboard printed."""

    def number(printed: str) -> str:
        keyboard = [line for line in printed.splitlines() if line.startswith("[1] ")][-1]
        buttons = dict((text.strip(), index) for index, text in re.findall(r"\[(\d+)\] ([^\[]+)", keyboard))
        return next(index for text, index in buttons.items() if label in text)

    return number


def console_settings(tmp_path: Path):
    return load_settings(tmp_path / "none.toml", database_url=f"sqlite:///{tmp_path}/crm.db", default_language="en",
                         telegram_bot_token=None, slack_bot_token=None, slack_app_token=None,
                         whisper_cache_dir=tmp_path / "models", import_spool_dir=tmp_path / "imports")


async def chat(tmp_path: Path, lines: list[Line]) -> tuple[str, ScriptedInput]:
    printed = io.StringIO()
    stdin = ScriptedInput(lines, printed)
    await asyncio.wait_for(serve(console_settings(tmp_path), stdin=stdin, stdout=printed), timeout=120)
    return printed.getvalue(), stdin


def stored(tmp_path: Path, model):
    engine = create_engine(f"sqlite:///{tmp_path}/crm.db")
    try:
        with Session(engine) as session:
            return list(session.exec(select(model)))
    finally:
        engine.dispose()


async def test_a_note_is_logged_and_confirmed_a_button_press_works_help_and_quit(tmp_path):
    output, stdin = await chat(tmp_path, [
        "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday",
        "Called Globex about the invoice",
        press("Undo"),
        "/help",
        "/quit",
        "Visited Initech, wants a demo",  # after /quit: never read
    ])
    assert output.startswith("chatcrm — type a note, /help, or /quit.")
    assert "✅ Logged: Acme (new customer) · Mr. Lee · visit" in output and "📦 100 units" in output
    assert "⏰ Next: quote" in output
    assert "✅ Logged: Globex" in output
    after_press = output.split("✅ Logged: Globex", 1)[1]
    assert "Undone" in after_press
    assert "/todo" in after_press and "/log" in after_press  # the help
    assert "Initech" not in output and stdin.read == 5  # /quit ended the chat; the last line stayed unread
    customers = {c.id: c.name for c in stored(tmp_path, Customer)}
    notes = {customers.get(i.customer_id): i for i in stored(tmp_path, Interaction)}
    assert notes["Acme"].deleted_at is None and "Mr. Lee" in notes["Acme"].text
    assert notes[None].deleted_at is not None and "Globex" in notes[None].text  # the press undid the second note
    assert "Globex" not in customers.values()  # and removed the customer it had created
    assert "Initech" not in customers.values()
    [follow_up] = stored(tmp_path, FollowUp)
    assert follow_up.status == "pending" and follow_up.customer_id == notes["Acme"].customer_id


async def test_the_end_of_input_ends_the_chat(tmp_path):
    output, stdin = await chat(tmp_path, ["/todo"])
    assert "Nothing to follow up" in output and stdin.read == 1


async def test_a_second_run_on_the_same_file_answers_every_line(tmp_path):
    await chat(tmp_path, ["/todo"])
    output, _ = await chat(tmp_path, ["Visited Acme, wants a quote Friday", "/todo"])
    assert "✅ Logged: Acme" in output
    assert "Acme" in output.split("✅ Logged: Acme", 1)[1]  # …and the to-do list shows it
    assert len(stored(tmp_path, Interaction)) == 1


def chatcrm_command() -> list[str]:
    script = Path(sys.executable).with_name("chatcrm")
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-c", "from bot.cli import main; main()", "run"]


def test_chatcrm_run_chats_on_the_terminal_with_piped_stdin(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith(("TELEGRAM_", "SLACK_", "DATABASE_", "DEFAULT_", "WHISPER_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/crm.db", DEFAULT_LANGUAGE="en", PYTHONPATH=str(ROOT),
               WHISPER_CACHE_DIR=str(tmp_path / "models"))
    script = "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday\n/help\n/quit\n"
    done = subprocess.run(chatcrm_command(), input=script, capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("chatcrm — type a note, /help, or /quit.")
    assert "✅ Logged: Acme (new customer) · Mr. Lee · visit" in done.stdout
    assert re.search(r"\[\d\] ✏️ Edit  \[\d\] 🚫 No follow-up  \[\d\] ↩️ Undo", done.stdout) and "/todo" in done.stdout
    assert "Traceback" not in done.stderr
    [note] = stored(tmp_path, Interaction)
    assert note.deleted_at is None and "Mr. Lee" in note.text
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").glob("*.db"))  # DATABASE_URL was used


@pytest.fixture(autouse=True)
def no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml, and anything written by default lands here
