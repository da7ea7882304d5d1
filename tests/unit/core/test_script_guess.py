"""Which language a text is written in (`core.text.guess_language`): Chinese by the characters only one script
writes, so vocabulary, shared characters and a stray character of the other script do not mislead it."""

from __future__ import annotations

import pytest

from core.text import guess_language


@pytest.mark.parametrize(("text", "language"), [
    ("拜訪大同五金王總,要A100一百件報價,下週三前回覆", "zh-Hant"),
    ("拜访大同五金王总,要A100一百件报价,下周三前回复", "zh-Hans"),
    ("東昇貿易 張經理 吃飯,談明年訂單", "zh-Hant"),  # 吃 and 面 are both scripts' characters
    ("中華電器 謝總 來電 訂 冷氣 20 台 月底 安裝", "zh-Hant"),  # 台 (not 臺) is what Taiwan types
    ("宏達機械 林經理 說 軟件 要更新", "zh-Hant"),  # mainland vocabulary in Traditional characters
    ("新客户 百川科技 吳經理 想看 demo,週五下午", "zh-Hant"),  # one Simplified character among Traditional ones
    ("今日見咗利豐嘅陳生,佢話下個禮拜落單", "zh-Hant"),  # Cantonese, Hong Kong
    ("跟进一下华为的王经理, 下周一报价", "zh-Hans"),
    ("Visited Acme, Mr. Lee wants a quote", "en"),
    ("王 大同 五金", None),  # shared characters only: nothing to tell by
    ("說说", None),  # one of each: a tie
    ("200万元", "zh-Hans"),  # 万: CC-CEDICT lists it as Traditional for a surname only
    ("12345 !!", None),
])
def test_the_script_decides_by_the_characters_only_it_writes(text, language):
    assert guess_language(text) == language
