"""Console adapter: reads the terminal, prints replies, and serves as the Messenger for nudges."""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from core.chat import (
    SLASH_COMMANDS,
    Attachment,
    Button,
    ButtonIn,
    ChatRef,
    CommandIn,
    Envelope,
    Incoming,
    IncomingHandler,
    OutFile,
    Reply,
    Sender,
    TextIn,
)

PLATFORM = "console"
_TAGS = re.compile(r"</?(b|i|code|a)(\s[^>]*)?>")
QUIT = {"/quit", "/exit", "quit", "exit"}


def plain_text(markup: str) -> str:
    """The reply markup (small HTML subset) as terminal text."""
    return html.unescape(_TAGS.sub("", markup))


class ConsoleAdapter:
    """One local user chatting in the terminal. Typing a number presses the numbered button."""

    platform = PLATFORM
    command_style = SLASH_COMMANDS

    def __init__(self, handle: IncomingHandler, *, user_id: str = "local", name: str = "Local owner",
                 language: str | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 clock: Callable[[], datetime] | None = None, files_dir: Path | None = None) -> None:
        self._handle = handle
        self.files_dir = files_dir or Path("data/console-files")  # images and documents the bot sends
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._clock = clock or (lambda: datetime.now(UTC))
        self.chat = ChatRef(PLATFORM, user_id)
        self.sender = Sender(user_id, name, language_code=language)
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]  # message ids are unique across runs on one database (the inbox dedupes)
        self._buttons: list[tuple[Button, str]] = []  # (button, message id it belongs to)
        self._stopped = asyncio.Event()

    # -- Messenger -------------------------------------------------------------------------
    async def send(self, to: ChatRef, reply: Reply) -> str:
        message_id = str(next(self._ids))
        self._print(reply, message_id)
        return message_id

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        self._print(reply, message_id)

    async def download(self, attachment: Attachment) -> bytes:
        with open(attachment.file_id, "rb") as handle:  # the console "attaches" local files by path
            return handle.read()

    async def typing(self, to: ChatRef) -> None:
        self._write("…")

    # -- the loop --------------------------------------------------------------------------
    def to_incoming(self, line: str) -> Incoming | None:
        text = line.rstrip("\n")
        envelope = Envelope(self.chat, self.sender, f"c{self._run}-{next(self._ids)}", self._clock())
        stripped = text.strip()
        if stripped.isdigit() and self._buttons and 1 <= int(stripped) <= len(self._buttons):
            button, message_id = self._buttons[int(stripped) - 1]
            envelope = Envelope(self.chat, self.sender, message_id, self._clock())
            return ButtonIn(envelope, button.payload)
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, args = stripped[1:].partition(" ")
            return CommandIn(envelope, name.lower(), args.strip())
        return TextIn(envelope, text)

    async def run(self) -> None:
        """Read lines until EOF or /quit, answering each."""
        loop = asyncio.get_running_loop()
        while not self._stopped.is_set():
            line = await loop.run_in_executor(None, self._stdin.readline)
            if not line or line.strip().lower() in QUIT:
                break
            incoming = self.to_incoming(line)
            if incoming is None:
                continue
            replies = await self._handle(incoming)
            for reply in replies:
                edited = reply.edit and isinstance(incoming, ButtonIn)
                if edited:
                    await self.edit(self.chat, incoming.env.message_id, reply)
                else:
                    await self.send(self.chat, reply)
        self._stopped.set()

    async def start(self) -> None:
        self._write("chatcrm — type a note, /help, or /quit.")

    async def stop(self) -> None:
        self._stopped.set()

    # -- output ----------------------------------------------------------------------------
    def _print(self, reply: Reply, message_id: str) -> None:
        lines = [plain_text(reply.text)]
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self._buttons = [(button, message_id) for button in flat]
            lines.append("  ".join(f"[{i}] {b.label}" for i, b in enumerate(flat, start=1)))
        for out in (reply.image, reply.file):
            if out is not None:
                lines.append(f"📎 {self.save(out)}")
        self._write("\n".join(lines))

    def save(self, out: OutFile) -> Path:
        """A sent image or document saved as a file (a console cannot show it); its path is printed."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(out.name).name or "file"
        path = self.files_dir / name
        for number in itertools.count(2):
            if not path.exists():
                break
            path = self.files_dir / f"{Path(name).stem}-{number}{Path(name).suffix}"
        path.write_bytes(out.data)
        return path.resolve()

    def _write(self, text: str) -> None:
        self._stdout.write(text + "\n\n")
        self._stdout.flush()
