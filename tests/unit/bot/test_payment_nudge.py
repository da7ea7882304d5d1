"""A payment follow-up's nudge says how much is still to collect and offers "received" (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.notifier import render_nudge
from core.usecases.followup_cards import NudgeCard, Recipient
from core.usecases.views import CustomerRef, FollowUpView

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def card(owed, language="zh-Hant") -> NudgeCard:
    follow_up = FollowUpView(7, "催尾款", NOW, "pending", CustomerRef(3, "新光設計"))
    return NudgeCard(follow_up, Recipient(1, "陳", "sales", language, "Asia/Taipei"), owed=owed)


def test_a_payment_nudge_shows_the_money_owed_and_a_received_button():
    reply = render_nudge(card((Decimal("30000.00"), "TWD")), NOW)
    assert "💰 待收款:$30,000" in reply.text
    labels = {b.label: b.payload for row in reply.buttons for b in row}
    assert labels["💰 已收到 $30,000"] == "pay:rcv:7"
    english = render_nudge(card((Decimal("1250.50"), "USD"), "en"), NOW)
    assert "💰 Still to collect: $1,250.50" in english.text


def test_an_ordinary_nudge_has_no_money_line():
    reply = render_nudge(card(None), NOW)
    assert "💰" not in reply.text and not any(b.payload.startswith("pay:") for row in reply.buttons for b in row)
