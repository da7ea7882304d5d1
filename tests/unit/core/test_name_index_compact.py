"""The name index's compact parts: keys by position, bigram candidates and company keys, with later additions."""

from __future__ import annotations

from array import array

import pytest

from core.services import name_index as module
from core.services.name_index import _Companies, _Strings, _TeamNames


def test_strings_by_position_with_appended_ones() -> None:
    strings = _Strings(["大同五金行", "", "acme😀"])
    strings.append("永豐")
    assert list(strings) == ["大同五金行", "", "acme😀", "永豐"] and len(strings) == 4 and strings[3] == "永豐"


def test_bigram_candidates_of_a_large_team(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "SMALL_TEAM", 2)  # the bigram path, as beyond 5,000 names
    keys = ["大同五金行", "永丰电子", "acmetrading", "a", "大同电子"]
    names = _TeamNames(_Strings(keys), array("q", [1, 2, 3, 4, 5]))
    assert set(names.candidates("大同五金").values()) >= {"大同五金行"}
    assert "永丰电子" not in names.candidates("大同五金").values()
    assert set(names.candidates("acmetradng").values()) == {"acmetrading"}
    names.append("宏达光电", 6)  # after the bigrams were built: indexed at once
    assert names.candidates("宏达光")[5] == "宏达光电" and names.ids[5] == 6
    assert names.candidates("a")[3] == "a"


def test_companies_by_key_with_later_additions() -> None:
    companies = _Companies([("大同五金", 1), ("acme", 2), ("大同五金", 3), ("大同五金", 1)])
    assert companies.get("大同五金") == [1, 3] and companies.get("acme") == [2] and companies.get("nobody") == []
    companies.add("大同五金", 7)
    companies.add("大同五金", 3)
    companies.add("globex", 8)
    assert companies.get("大同五金") == [1, 3, 7] and companies.get("globex") == [8]
