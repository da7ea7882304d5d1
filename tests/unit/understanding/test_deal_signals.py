"""Stage words in notes, in the three languages, negations included."""

from __future__ import annotations

import pytest

from core.understanding.deal_signals import DealSignal, deal_signal


@pytest.mark.parametrize(("text", "expected"), [
    ("新光設計 簽約了,下週開工", DealSignal("won")),
    ("大同五金行成交 200 台", DealSignal("won")),
    ("永丰电子签了合同", DealSignal("won")),
    ("Acme signed today, 200 units", DealSignal("won")),
    ("We won the deal with Globex", DealSignal("won")),
    ("新光設計不做了", DealSignal("lost")),
    ("這案子輸給大成了,價格差太多", DealSignal("lost", "輸給大成了")),
    ("输给了对手", DealSignal("lost", "输给了对手")),
    ("Lost to Initech on price", DealSignal("lost", "Lost to Initech on price")),
    ("They went with a competitor", DealSignal("lost", "went with a competitor")),
    ("王總要報價 200 台", DealSignal("proposal")),
    ("李经理下了订单", DealSignal("proposal")),
    ("Sent the quote to Mr. Lee", DealSignal("proposal")),
    ("Acme wants a PO by Friday", DealSignal("proposal")),
])
def test_stage_words(text, expected):
    assert deal_signal(text) == expected


@pytest.mark.parametrize("text", ["還沒簽約,週五再問", "还没签约", "not signed yet, call Friday",
                                  "拜訪大同五金行,聊了近況", "Visited Acme, coffee with Mr. Lee", "Order of the day: call Bob"])
def test_nothing_or_not_won(text):
    signal = deal_signal(text)
    assert signal is None or signal.outcome == "proposal"
