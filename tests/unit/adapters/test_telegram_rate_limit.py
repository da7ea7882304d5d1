"""PacedRateLimiter: python-telegram-bot's requests that create a message wait for the pacer's slot of their chat;
everything else passes straight through; a 429 is reported to the pacer (for every process) and raised."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import RetryAfter

from adapters.telegram.rate_limit import PacedRateLimiter, paced


class RecordingPacer:
    def __init__(self) -> None:
        self.waits: list[tuple[str, str]] = []
        self.back_offs: list[tuple[str, float]] = []
        self.answered: list[tuple[str, str]] = []

    async def wait(self, platform: str, chat: str, *, held: bool = False) -> bool:
        assert held  # the chat stays taken until `done`
        self.waits.append((platform, chat))
        return True

    def done(self, platform: str, chat: str) -> None:
        self.answered.append((platform, chat))

    def back_off(self, platform: str, seconds: float) -> None:
        self.back_offs.append((platform, seconds))


@pytest.mark.parametrize(("endpoint", "data", "chat"), [
    ("sendMessage", {"chat_id": 42, "text": "hi"}, "42"),
    ("sendPhoto", {"chat_id": -100123}, "-100123"),
    ("sendDocument", {"chat_id": "@channel"}, "@channel"),
    ("copyMessage", {"chat_id": 7, "from_chat_id": 8}, "7"),
    ("forwardMessage", {"chat_id": 7}, "7"),
    ("sendChatAction", {"chat_id": 42, "action": "typing"}, None),
    ("editMessageText", {"chat_id": 42, "message_id": 1}, None),
    ("answerCallbackQuery", {"callback_query_id": "x"}, None),
    ("getUpdates", {"offset": 3}, None),
    ("setMyCommands", {"commands": []}, None),
])
def test_which_requests_are_paced(endpoint, data, chat):
    assert paced(endpoint, data) == chat


async def test_a_message_waits_for_its_chat_and_the_rest_pass():
    pacer = RecordingPacer()
    limiter = PacedRateLimiter(pacer)
    calls: list[str] = []

    async def callback(name: str) -> dict:
        calls.append(name)
        return {"ok": name}

    assert await limiter.process_request(callback, ("sent",), {}, "sendMessage", {"chat_id": 42}, None) == {"ok": "sent"}
    assert await limiter.process_request(callback, ("answered",), {}, "answerCallbackQuery",
                                         {"callback_query_id": "q"}, None) == {"ok": "answered"}
    assert calls == ["sent", "answered"]
    assert pacer.waits == pacer.answered == [("telegram", "42")]


async def test_a_429_backs_every_process_off_and_is_raised():
    pacer = RecordingPacer()

    async def refused() -> dict:
        raise RetryAfter(timedelta(seconds=5))

    with pytest.raises(RetryAfter):
        await PacedRateLimiter(pacer).process_request(refused, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert pacer.back_offs == [("telegram", 5.0)]
    assert pacer.answered == [("telegram", "1")]  # a refused request frees its chat too
