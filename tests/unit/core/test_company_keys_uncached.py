"""A whole team's company keys are computed without filling any cache, and equal `company_key`'s."""

from __future__ import annotations

from core.services.company_names import company_key, company_key_uncached
from core.text import match_key, to_simplified

NAMES = ["大同五金股份有限公司", "大同五金", "大同五金 (股) 公司", "Acme Trading Co., Ltd.", "ACME TRADING",
         "美商3M股份有限公司台灣分公司", "3M", "永豐電子（上海）有限公司", "The Globex Corporation", "公司", "Limited",
         "宏達國際電子股份有限公司台北辦事處", "Initech Taiwan Branch", "株式会社ソニー", "!!!", ""]


def test_uncached_keys_equal_the_cached_ones() -> None:
    assert [company_key_uncached(name) for name in NAMES] == [company_key(name) for name in NAMES]


def test_uncached_keys_fill_no_cache() -> None:
    fresh = [f"聯旺光電{i}股份有限公司" for i in range(50)] + [f"Vandelay {i} Ltd." for i in range(50)]
    before = company_key.cache_info().currsize, to_simplified.cache_info().currsize, match_key.cache_info().currsize
    keys = [company_key_uncached(name) for name in fresh]
    after = company_key.cache_info().currsize, to_simplified.cache_info().currsize, match_key.cache_info().currsize
    assert keys[0] == "联旺光电0" and keys[50] == "vandelay0"
    assert after == before
