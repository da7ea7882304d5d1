"""The one delivery policy: what each send outcome means, the retry schedules, the reply retry (no database)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.delivery import POLICY, FailureKind, Outcome, ReplyRetry, classify, no_chat, send_with_policy
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable


@pytest.mark.parametrize(("error", "outcome", "kind", "counted"), [
    (None, Outcome.delivered, None, False),
    (RateLimited(7), Outcome.retry, FailureKind.rate_limited, False),
    (DeliveryError("502 Bad Gateway"), Outcome.retry, FailureKind.platform_error, True),
    (ConnectionRefusedError("refused"), Outcome.retry, FailureKind.platform_error, True),
    (Unreachable("Forbidden: bot was blocked by the user"), Outcome.unreachable, FailureKind.unreachable, False),
    (DeliveryUncertain("connection dropped"), Outcome.uncertain, FailureKind.uncertain, False),
    (TimeoutError(), Outcome.uncertain, FailureKind.uncertain, False),
    (KeyError("a rendering bug"), Outcome.retry, FailureKind.internal, True),
])
def test_each_exception_has_one_outcome(error, outcome, kind, counted):
    classified = classify(error)
    assert (classified.outcome, classified.kind, classified.counts_as_attempt) == (outcome, kind, counted)


def test_a_429_waits_its_retry_after_and_keeps_the_platforms_words():
    classified = classify(RateLimited(12.5, "Too Many Requests: retry after 12"))
    assert classified.retry_after == timedelta(seconds=12.5) and "retry after 12" in classified.detail
    retry = POLICY.retry(classified, 3, POLICY.nudges)
    assert (retry.attempts, retry.wait) == (3, timedelta(seconds=12.5))  # not counted


def test_a_timeout_without_words_is_named_by_its_class():
    assert classify(TimeoutError()).detail == "TimeoutError"
    assert no_chat().kind is FailureKind.no_chat and no_chat().outcome is Outcome.retry


def test_nudges_back_off_then_every_six_hours_after_the_fifth_failure():
    waits, attempts = [], 0
    for _ in range(7):
        retry = POLICY.retry(classify(DeliveryError("500")), attempts, POLICY.nudges)
        attempts = retry.attempts
        waits.append(retry.wait)
    assert waits == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4),
                     timedelta(hours=6), timedelta(hours=6), timedelta(hours=6)]
    assert attempts == 7 and POLICY.nudges.gave_up(5) and not POLICY.nudges.gave_up(4)


def test_notices_back_off_1_2_4_8_then_every_15_minutes():
    assert [POLICY.notices.wait(n) for n in range(1, 8)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15)]
    assert not POLICY.notices.gave_up(100)  # a notice is retried for as long as its window lasts


def test_an_unreachable_chat_is_held_without_counting_an_attempt():
    retry = POLICY.retry(classify(Unreachable("chat not found")), 2, POLICY.nudges)
    assert retry.attempts == 2


class Calls:
    def __init__(self, *errors: BaseException | None) -> None:
        self.errors, self.made, self.slept = list(errors), 0, []

    async def send(self) -> str:
        self.made += 1
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return f"id{self.made}"

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def run(calls: Calls, policy: ReplyRetry = POLICY.replies) -> str:
    return asyncio.run(send_with_policy(calls.send, policy, sleep=calls.sleep))


def test_a_reply_waits_out_one_429_and_is_sent():
    calls = Calls(RateLimited(3))
    assert run(calls) == "id2" and calls.slept == [3.0]


def test_a_reply_gives_up_after_its_tries_or_on_a_long_wait():
    calls = Calls(RateLimited(1), RateLimited(1), RateLimited(1))
    with pytest.raises(RateLimited):
        run(calls)
    assert calls.made == POLICY.replies.tries == 3 and calls.slept == [1.0, 1.0]
    too_long = Calls(RateLimited(POLICY.replies.max_wait + 1))
    with pytest.raises(RateLimited):
        run(too_long)
    assert too_long.made == 1 and too_long.slept == []


def test_a_reply_refused_with_a_5xx_is_tried_again_with_backoff():
    calls = Calls(DeliveryError("502"), DeliveryError("503"))
    assert run(calls) == "id3" and calls.slept == [0.5, 1.0]
    failing = Calls(DeliveryError("500"), DeliveryError("500"), DeliveryError("500"))
    with pytest.raises(DeliveryError):
        run(failing)
    assert failing.made == 3


@pytest.mark.parametrize("error", [DeliveryUncertain("timeout"), Unreachable("blocked"), ValueError("our bug")])
def test_a_reply_is_not_resent_after_an_uncertain_or_final_failure(error):
    calls = Calls(error)
    with pytest.raises(type(error)):
        run(calls)
    assert calls.made == 1 and calls.slept == []
