"""The one delivery policy: what a send's outcome means, and when (whether) to try again.

Every message the bot sends — a nudge, a notice (digest, weekly summary, silent-customer alert) or a
reply — ends in one of four outcomes, told apart by the exception the adapter raised (core.ports):
- **delivered**: the platform answered with a message id;
- **retry**: the platform refused and the message surely did not go out: a 429 (`RateLimited`) waits
  its `retry_after` and is not counted as an attempt; a 5xx, a refused connection or a rendering bug
  backs off by the attempt count;
- **unreachable**: the member blocked the bot or the chat is gone: nothing more is tried until they write;
- **uncertain**: no answer (a timeout, a connection dropped after the request left): it may well have
  arrived, so it is never resent.

`classify(error)` gives the outcome and a `FailureKind` (stored in `followup.last_failure`, shown on
/status); `RetryPolicy` gives the wait before the next try, with one named schedule per kind of message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable

T = TypeVar("T")


class Outcome(StrEnum):
    delivered = "delivered"
    retry = "retry"  # refused, surely not sent: safe to send again
    unreachable = "unreachable"
    uncertain = "uncertain"  # may have arrived: never resend


class FailureKind(StrEnum):
    """Why the last try failed (`followup.last_failure`, `notice.last_failure`)."""

    rate_limited = "rate_limited"
    platform_error = "platform_error"  # 5xx, network refused, a platform's own refusal
    internal = "internal"  # a bug on our side (e.g. rendering): retried, logged
    unreachable = "unreachable"
    uncertain = "uncertain"
    no_chat = "no_chat"  # the member has no chat on an attached platform


@dataclass(frozen=True, slots=True)
class Classified:
    outcome: Outcome
    kind: FailureKind | None = None
    retry_after: timedelta | None = None  # the platform said how long to wait (a 429)
    detail: str = ""  # the platform's words, for logs and `last_error`

    @property
    def counts_as_attempt(self) -> bool:
        """A 429 is the platform pacing us, not a failure of this message."""
        return self.outcome is Outcome.retry and self.retry_after is None


DELIVERED = Classified(Outcome.delivered)


def _words(error: BaseException) -> str:
    return str(error) or error.__class__.__name__


def classify(error: BaseException | None) -> Classified:
    """The outcome of a send that raised `error` (None: it returned normally)."""
    if error is None:
        return DELIVERED
    if isinstance(error, RateLimited):
        return Classified(Outcome.retry, FailureKind.rate_limited, timedelta(seconds=max(0.0, error.retry_after)),
                          _words(error))
    if isinstance(error, Unreachable):
        return Classified(Outcome.unreachable, FailureKind.unreachable, detail=_words(error))
    if isinstance(error, DeliveryUncertain | TimeoutError):
        return Classified(Outcome.uncertain, FailureKind.uncertain, detail=_words(error))
    if isinstance(error, DeliveryError | OSError):
        return Classified(Outcome.retry, FailureKind.platform_error, detail=_words(error))
    return Classified(Outcome.retry, FailureKind.internal, detail=f"error: {error}")


def no_chat() -> Classified:
    """The member has no chat the bot can reach: retried slowly (they may join from a platform later)."""
    return Classified(Outcome.retry, FailureKind.no_chat, detail="no chat for this member")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Exponential backoff: `first`, doubling, at most `cap`; after `max_attempts` (if any), `then_every`."""

    first: timedelta
    cap: timedelta
    max_attempts: int | None = None
    then_every: timedelta | None = None

    def wait(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th counted failure."""
        if self.max_attempts is not None and self.then_every is not None and attempts >= self.max_attempts:
            return self.then_every
        return min(self.first * 2 ** min(max(attempts - 1, 0), 20), self.cap)

    def gave_up(self, attempts: int) -> bool:
        """Past `max_attempts`: still retried (slowly), and reported as a problem."""
        return self.max_attempts is not None and attempts >= self.max_attempts


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int  # counted failures after this one
    wait: timedelta


@dataclass(frozen=True, slots=True)
class ReplyRetry:
    """A reply to a member's message, `tries` in all: a 429 is waited out (up to `max_wait`), a refusal that surely
    did not go out (5xx, connection refused) is tried again after a short backoff; an uncertain outcome (it may
    have arrived), an unreachable chat or our own bug is given up at once (the adapter reports the reply lost)."""

    tries: int = 3
    max_wait: float = 30.0  # seconds
    first_backoff: float = 0.5  # seconds, doubled per try

    def wait_before(self, classified: Classified, tried: int) -> float | None:
        """Seconds to wait before try number `tried + 1`, or None to give up."""
        if tried >= self.tries:
            return None
        if classified.kind is FailureKind.rate_limited and classified.retry_after is not None:
            seconds = classified.retry_after.total_seconds()
            return seconds if seconds <= self.max_wait else None
        if classified.kind is FailureKind.platform_error:
            return min(self.first_backoff * 2 ** (tried - 1), self.max_wait)
        return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """One policy, a named schedule per kind of message."""

    nudges: Schedule
    notices: Schedule
    replies: ReplyRetry

    @staticmethod
    def retry(classified: Classified, attempts: int, schedule: Schedule) -> Retry:
        """When to look at a failed message again, given its counted failures so far: after `retry_after`
        for a 429 (not counted); one attempt more and the schedule's wait for any other refusal; for an
        unreachable chat, the schedule's wait without counting (it is held until the member writes)."""
        if classified.retry_after is not None:
            return Retry(attempts, classified.retry_after)
        if classified.counts_as_attempt:
            attempts += 1
        return Retry(attempts, schedule.wait(attempts))


POLICY = RetryPolicy(
    # 30 s, 1, 2, 4 min, then every 6 h from the 5th failure (flagged on /status and in the digest)
    nudges=Schedule(first=timedelta(seconds=30), cap=timedelta(hours=1), max_attempts=5,
                    then_every=timedelta(hours=6)),
    # 1, 2, 4, 8 min, then every 15 min, for as long as the notice's window lasts
    notices=Schedule(first=timedelta(minutes=1), cap=timedelta(minutes=15)),
    replies=ReplyRetry(tries=3, max_wait=30.0, first_backoff=0.5),
)


async def send_with_policy(call: Callable[[], Awaitable[T]], policy: ReplyRetry = POLICY.replies, *,
                           sleep: Callable[[float], Awaitable[object]] | None = None) -> T:
    """Run a reply send (`call`), trying again as the reply policy allows; re-raises what it gives up on."""
    tried = 0
    while True:
        try:
            return await call()
        except Exception as error:
            tried += 1
            wait = policy.wait_before(classify(error), tried)
            if wait is None:
                raise
            await (sleep or asyncio.sleep)(wait)
