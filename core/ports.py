"""Ports: what the core needs from the outside world, implemented by adapters and engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from core.chat import Attachment, ChatRef, Reply


class DeliveryError(Exception):
    """Sending failed for a reason that may pass (network, 5xx): retry with backoff."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryUncertain(DeliveryError):
    """The request may have reached the platform (a timeout or a dropped connection after sending): do not resend."""


class Unreachable(DeliveryError):
    """The member blocked the bot or the chat is gone: stop retrying until they come back."""


@runtime_checkable
class Messenger(Protocol):
    platform: str

    async def send(self, to: ChatRef, reply: Reply) -> str:
        """Send a reply; return the platform's message id."""
        ...

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None: ...

    async def download(self, attachment: Attachment) -> bytes: ...

    async def typing(self, to: ChatRef) -> None: ...


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    language_probability: float
    duration: float
    seconds: float
    low_confidence: bool = False
    reasons: tuple[str, ...] = field(default=())
    engine: str = ""


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        """Blocking; callers run it off the event loop."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
