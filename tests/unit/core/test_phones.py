"""Phone numbers: E.164 when they parse, for the member's country; as given otherwise."""

from __future__ import annotations

import pytest

from core.services.phones import normalize_phone, normalize_phones


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("0912 345 678", "TW", "+886912345678"),
    ("+886 912-345-678", "CN", "+886912345678"),
    ("138 0013 8000", "CN", "+8613800138000"),
    ("02 2345 6789", "", "+886223456789"),  # no country known: Taiwan
    ("ext. 12", "TW", "ext. 12"),
    ("12", "TW", "12"),
    ("", "TW", None),
    (None, "TW", None),
])
def test_normalize_phone(raw, country, expected):
    assert normalize_phone(raw, country) == expected


def test_normalize_phones_keeps_each_number_once_in_order():
    assert normalize_phones(["0912-345-678", "+886 912 345 678", "(02) 2712-3456", None, " "], "TW") == [
        "+886912345678", "+886227123456"]
    assert normalize_phones(["020 8765 4321"], "gb") == ["+442087654321"]  # the region in any case
