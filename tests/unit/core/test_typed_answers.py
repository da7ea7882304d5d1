"""Which typed answers can be a customer's name (core.usecases.typed_answers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.usecases.typed_answers import NameProblem, name_problem

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", [
    "大同五金行", "台灣積體電路製造股份有限公司", "美的集团", "華為技術有限公司", "3M 台灣分公司", "Acme Co., Ltd.",
    "Blue Harbour Trading", "I.B.M.", "7-Eleven", "NextEra Energy", "陳記麵館", "新竹科技", "Globex Inc."])
def test_company_names_are_accepted(name):
    assert name_problem(name, now=NOW, tz="Asia/Taipei") is None


@pytest.mark.parametrize(("text", "problem"), [
    ("拜訪大同五金行王總,他要A100一百件的報價,下週三前回覆", NameProblem.SENTENCE),
    ("今天跟美的集团赵经理吃饭", NameProblem.SENTENCE),
    ("見了 acme lee 下週二再聊", NameProblem.SENTENCE),
    ("Visited Acme, Mr. Lee wants a quote for 100 units", NameProblem.SENTENCE),
    ("acme lee said ok", NameProblem.SENTENCE),
    ("Globex tomorrow 3pm", NameProblem.SENTENCE),
    ("明天下午三點", NameProblem.SENTENCE),
    ("王總說好", NameProblem.SENTENCE),
    ("/todo", NameProblem.COMMAND),
    ("Acme Global Holdings International Trading Partners Company Limited of Taiwan", NameProblem.TOO_LONG),
    ("大同大同大同大同大同大同大同大同大同大同大同大同大同", NameProblem.TOO_LONG),
])
def test_notes_sentences_and_commands_are_refused(text, problem):
    assert name_problem(text, now=NOW, tz="Asia/Taipei") is problem
