"""Logging a note understands it with the member's country and language: 200萬 from Hong Kong is HKD,
200万 in Simplified Chinese is CNY, 80k from Singapore is SGD; explicit markers win."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.services import teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases.notes import understand

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("country", "language", "note", "currency"), [
    ("HK", "zh-Hant", "利豐貿易 陳生 話下個月落單 200 萬", "HKD"),
    ("TW", "zh-Hant", "大同五金行 王總 預算 200 萬", "TWD"),
    ("TW", "zh-Hans", "美的集团 赵经理 预算 200万元", "CNY"),
    ("SG", "en", "Globex budget is around 80k", "SGD"),
    ("SG", "en", "Globex budget is around US$80k", "USD"),
])
def test_the_members_country_and_language_choose_the_currency(engine, country, language, note, currency):
    with unit_of_work(engine) as uow:
        actor = Actor.of(teams.found_team(uow.session, teams.Newcomer("telegram", "1", "100", "Amy")))
        actor = replace(actor, country=country, language=language)
        [amount] = understand(uow.session, actor, NOW, note).amounts
    assert amount.currency == currency
