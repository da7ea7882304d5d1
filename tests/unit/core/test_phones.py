"""Phone numbers: E.164 when they parse, for the member's country; as given otherwise."""

from __future__ import annotations

import pytest

from core.services.phones import normalize_phone


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
