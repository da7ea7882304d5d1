"""Every command of `bot.commands.TABLE`, under every name it has (en, zh-Hant, zh-Hans), through the real
slack-bolt app against the fake Slack Web API: as a DM word (`todo`, `待辦`) and as `/crm <word>`.

Each answer is compared with the answer the same command gives on the console (the conversation driver,
`tests/conversation.py`) in the same state: both must be the same catalogue message(s) — the *kind* of
answer, found by matching the text against every catalogue template written in that platform's command
forms — and never the note confirmation or "unknown command". Nothing is logged as a note, and the Slack
answers show Slack's forms (`todo`), never Telegram's (`/todo`).
"""

from __future__ import annotations

import asyncio
import re
import string
from functools import cache

import pytest
from sqlmodel import func, select

from adapters.slack.blocks import plain
from bot.bootstrap import build
from bot.commands import TABLE, CommandForms, resolve
from bot.i18n import catalogue, t
from bot.platforms import slack_adapter
from core.chat import SLASH_COMMANDS, CommandIn, CommandStyle
from core.db import session_scope
from core.models import Interaction, Member
from core.settings import load_settings
from tests.conversation import Chat, RecordingMessenger
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.slack_api import dm, event, slash

SLACK = CommandStyle(prefix="", bare_words=True, alternative="/crm ")
NEVER = {"notes.logged", "core.unknown_command", "core.not_member", "core.cannot_handle"}
SLASHED = re.compile(r"(?<![\w.<])/(\w+)")


@cache
def templates(style: CommandStyle) -> dict[str, re.Pattern[str]]:
    """Catalogue key → a regex matching the start of a text made from it (placeholders are wildcards)."""
    forms, patterns = CommandForms(style), {}
    for key, template in catalogue("en").items():
        parts, literal = [], 0
        for text, field, _, _ in string.Formatter().parse(template):
            text = plain(text)
            parts.append(re.escape(text))
            literal += len(text.replace(" ", ""))
            if field and field.startswith("cmd["):
                parts.append(re.escape(forms[field[4:-1]]))
            elif field:
                parts.append(".*?")
        if literal >= 4:  # "{customer}: {action}" would match anything
            patterns[key] = re.compile("".join(parts), re.S)
    return patterns


def kind(text: str, style: CommandStyle) -> frozenset[str]:
    """The catalogue messages an answer starts with."""
    return frozenset(key for key, pattern in templates(style).items() if pattern.match(text))


def slashed_commands(text: str) -> list[str]:
    """Commands written Telegram's way (`/todo`) in a text; `/crm` is Slack's own."""
    return [word for word in SLASHED.findall(text) if resolve(word) is not None]


def interactions(app) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(func.count()).select_from(Interaction)).one()


@pytest.fixture
async def slack(fake, tmp_path, clock):
    """(app, events URL) of a Slack bot over HTTP whose owner has started, on the fake clock."""
    app = build(slack_settings(fake, tmp_path), clock=clock)
    adapter = slack_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    url = f"http://127.0.0.1:{adapter.port}/slack/events"
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    yield app, url
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


@pytest.fixture
async def console(tmp_path, clock):
    """The same bot on the console (slash commands), its owner started, on the same clock."""
    settings = load_settings(tmp_path / "none.toml", database_url=f"sqlite:///{tmp_path}/console.db",
                             default_language="en")
    app = build(settings, clock=clock)
    app.attach(RecordingMessenger("test"))
    await app.start(with_scheduler=False)
    owner = Chat(app, "owner", "Amy Lin", "en")
    await owner.say("/start")
    yield owner
    await app.stop()
    app.engine.dispose()


class SlackOwner:
    """Sends as U1 and collects the answers each message got, in order (posted or ephemeral; not the pointer
    to the DM)."""

    def __init__(self, fake, url: str) -> None:
        self.fake, self.url = fake, url

    def answers(self, since: int) -> list[str]:
        texts = [call.body["text"] for call in self.fake.messages(since)]
        pointer = plain(t("en", "slack.answer_in_dm", url="https://slack.com/app_redirect"))
        return [text for text in texts if text != pointer]

    async def ask(self, text: str, *, replies: int, as_slash: bool) -> list[str]:
        before = len(self.fake.calls)
        status, _ = await (slash(self.url, text) if as_slash else event(self.url, dm(text)))
        assert status == 200
        deadline = asyncio.get_running_loop().time() + 10
        while len(self.answers(before)) < replies and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        answers = self.answers(before)
        assert len(answers) >= replies, (text, answers)
        return answers[:replies]


@pytest.mark.parametrize("command", TABLE, ids=lambda command: command.name)
async def test_every_name_of_every_command_answers_on_slack_as_on_the_console(command, fake, slack, console):
    app, url = slack
    owner = SlackOwner(fake, url)
    for word in (command.name, *command.aliases):
        expected = [plain(reply.text) for reply in await console.send(CommandIn(console.envelope(), word, ""))]
        expected_kinds = [kind(text, SLASH_COMMANDS) for text in expected]
        assert expected_kinds and all(expected_kinds), (word, expected)
        assert not any(kinds & NEVER for kinds in expected_kinds), (word, expected)
        for as_slash in (False, True):
            answers = await owner.ask(word, replies=len(expected), as_slash=as_slash)
            how = f"/crm {word}" if as_slash else f"DM {word!r}"
            assert [kind(text, SLACK) for text in answers] == expected_kinds, (how, answers, expected)
            assert not any(slashed_commands(text) for text in answers), (how, answers)
    assert interactions(app) == 0  # no command word was taken for a note


async def test_help_shows_each_platforms_command_forms(fake, slack, console):
    _, url = slack
    owner = SlackOwner(fake, url)
    for as_slash in (False, True):
        [help_text] = await owner.ask("help", replies=1, as_slash=as_slash)
        assert "\ntodo:" in help_text and "\nfind " in help_text and " digest 07:45" in help_text
        assert "/todo" not in help_text and help_text.count("/crm todo") == 1
    [console_help] = await console.say("/help")
    assert "\n/todo:" in console_help.text and "/digest 07:45" in console_help.text
    assert "/crm" not in console_help.text


@pytest.mark.parametrize(("digest", "hours", "days"), [
    ("digest 07:45", "hours 09:30-18:30 mon-fri", "12345"),
    ("早報 07:45", "工作時間 9點半到下午6點半 週一至週六", "123456"),
    ("摘要 07:45", "工作时间 9点半到18点半 周一到周六", "123456"),
])
async def test_digest_and_hours_in_a_dm_change_the_settings_and_are_not_notes(digest, hours, days, fake, slack):
    app, url = slack
    owner = SlackOwner(fake, url)
    [digest_answer] = await owner.ask(digest, replies=1, as_slash=False)
    assert "settings.digest_set" in kind(digest_answer, SLACK), digest_answer
    [hours_answer] = await owner.ask(hours, replies=1, as_slash=False)
    assert "settings.hours_set" in kind(hours_answer, SLACK), hours_answer
    with session_scope(app.engine) as session:
        member = session.exec(select(Member)).one()
        assert (member.digest_time, member.work_start, member.work_end, member.work_days) == (
            "07:45", "09:30", "18:30", days)
    assert interactions(app) == 0
    [off] = await owner.ask("digest off", replies=1, as_slash=True)
    assert "settings.digest_now_off" in kind(off, SLACK) and "send digest 08:30" in off.casefold()
