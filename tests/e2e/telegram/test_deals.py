"""A deal from first contact to won on Telegram (real python-telegram-bot against the fake Bot API), from notes
and buttons only: the note card proposes the deal with its amount, a press makes it, the pipeline shows it, a
later note proposes Won; every payload fits Telegram's 64 bytes."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from core.db import session_scope
from core.models import Deal
from tests.e2e.telegram.test_team_customers import buttons, data_of, press, say, team
from tests.fakes.telegram_api import user

CHEN = user(43, "美玲", "陳", "zh-hant")


async def test_a_deal_from_a_note_to_won_through_telegram(fake, running):
    app, _ = running
    await team(fake)
    card = await say(fake, CHEN, "拜訪新光設計,王總要報價 NT$150,000,週五回覆")
    assert all(len(data.encode()) <= 64 for _label, data in buttons(card))
    offer = data_of(card, "📈 方案報價")
    made = await press(fake, CHEN, offer)
    assert "方案報價" in made["text"] and "150,000" in made["text"]
    pipeline = await say(fake, CHEN, "/pipeline")
    assert "方案報價:1 筆" in pipeline["text"] and "90,000" in pipeline["text"]
    signed = await say(fake, CHEN, "新光設計簽約了")
    won = await press(fake, CHEN, data_of(signed, "→ 簽約成交"))
    assert "簽約成交" in won["text"]
    with session_scope(app.engine) as session:
        [deal] = session.exec(select(Deal)).all()
    assert deal.stage == "won" and deal.amount == Decimal("150000.00") and deal.won_at is not None
