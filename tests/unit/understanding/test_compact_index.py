"""The parser's CustomerIndex stores the customers it is built with compactly and those added later beside them:
both paths must give the same answers, and additions, removals and re-additions must be seen by every lookup."""

from __future__ import annotations

import pytest

from core.understanding import CustomerIndex, KnownCustomer
from core.understanding.names import keyed

CUSTOMERS = [
    KnownCustomer(3, "大同五金行", ("大同",), ("王總",)),
    KnownCustomer(5, "Acme Trading", ("Acme",), ("Janet Wu", "Lee")),
    KnownCustomer(8, "Globex Industries 42", (), ("陳經理",)),
    KnownCustomer(9, "大同電子", (), ("陳經理",)),
    KnownCustomer(11, "永豐電子"),
    KnownCustomer(12, "永豐", ("Yung Feng",)),  # 永豐 is also a prefix of 永豐電子
    KnownCustomer(14, "Initech", ("3M",)),
    KnownCustomer(15, "初\x1f號", ("",)),  # a separator and an empty alias: kept as given
]
NOTES = ["拜訪大同五金行王總,要報價", "Visited Acmee Trading, Janet Wu wants a quote", "call globex industries 42 tmr",
         "永豐電子說下週到貨", "跟永豐確認", "Initech 3M order", "yung feng sent the PO", "大同的陳經理說好"]


def answers(index: CustomerIndex) -> list[object]:
    """Everything the parser reads from an index, for the notes and keys above."""
    out: list[object] = [bool(len(index))]
    for note in NOTES:
        out.append([(m.customer_ids, m.start, m.end, m.exact) for m in index.scan(note)])
        out.append(index.find_mentions(note))
    for text in ("大同五金行", "大同", "永豐", "acme", "acmetrading", "3m", "初號", "nobody"):
        key = keyed(text)[0]
        out.append((index.exact(key), index.starting_with(key), index.starting_with(key, limit=1)))
    for contact in ("王總", "陳經理", "Janet Wu", "Lee", "nobody"):
        out.append(sorted(index.contacts.get(keyed(contact)[0], ()), key=str))
    out.extend(index.get(c.id) for c in CUSTOMERS)
    return out


def added_one_by_one(customers: list[KnownCustomer]) -> CustomerIndex:
    index = CustomerIndex()
    for customer in customers:
        index.add(customer)
    return index


def test_built_and_added_indexes_answer_alike() -> None:
    built, added = CustomerIndex(CUSTOMERS), added_one_by_one(CUSTOMERS)
    assert answers(built) == answers(added)
    assert [c.id for c in built.exact(keyed("大同")[0])] == [3]
    assert [c.id for c in built.starting_with(keyed("大同")[0])] == [3, 9]
    assert built.get(15) == CUSTOMERS[-1]
    assert built.contacts.get(keyed("陳經理")[0]) == {8, 9}
    assert [m.customer_ids for m in built.scan("Visited Acmee Trading today")] == [(5,)]


def test_ids_given_out_of_order_are_found() -> None:
    index = CustomerIndex(list(reversed(CUSTOMERS)))
    assert all(index.get(c.id) == c for c in CUSTOMERS)
    assert index.get(4) is None and index.get(None) is None


@pytest.mark.parametrize("start", ["built", "added"])
def test_changes_after_building(start: str) -> None:
    index = CustomerIndex(CUSTOMERS) if start == "built" else added_one_by_one(CUSTOMERS)
    index.add(KnownCustomer(20, "宏達光電", ("宏達",), ("張協理",)))
    index.add(KnownCustomer(3, "大同五金行", ("大同", "大同五金"), ()))  # an alias more; its contacts are kept
    index.remove(5)
    index.remove(9)
    index.add(KnownCustomer(9, "大同科技", (), ("林經理",)))  # removed, then added again under another name

    assert [c.id for c in index.exact(keyed("宏達")[0])] == [20]
    assert index.contacts.get(keyed("張協理")[0]) == {20}
    assert index.get(3) == KnownCustomer(3, "大同五金行", ("大同", "大同五金"), ("王總",))
    assert [m.customer_ids for m in index.scan("拜訪大同五金,要報價")] == [(3,)]
    assert index.get(5) is None and index.exact("acmetrading") == [] and index.contacts.get(keyed("Janet Wu")[0]) is None
    assert index.find_mentions("Visited Acmee Trading") == []  # nor with a typo
    assert index.exact(keyed("大同電子")[0]) == [] and [c.id for c in index.exact(keyed("大同科技")[0])] == [9]
    assert index.contacts.get(keyed("陳經理")[0]) == {8} and index.contacts.get(keyed("林經理")[0]) == {9}
    assert [c.id for c in index.starting_with(keyed("大同")[0])] == [3, 9]
    assert [c.id for c in index.find_mentions("大同科技的林經理")] == [9]


def test_a_latin_name_added_later_is_found_with_a_typo() -> None:
    index = CustomerIndex(CUSTOMERS)
    index.add(KnownCustomer(30, "Vandelay Imports"))
    assert [m.customer_ids for m in index.scan("met vandelay imprts today")] == [(30,)]
    index.remove(30)
    assert index.scan("met vandelay imprts today") == []


def test_many_customers_sharing_a_key() -> None:
    same = [KnownCustomer(i, "聯發", (), ("王總",)) for i in range(1, 40)]
    index = CustomerIndex(same)
    assert [c.id for c in index.exact(keyed("聯發")[0])] == list(range(1, 40))
    assert [m.customer_ids for m in index.scan("聯發王總說好")] == [tuple(range(1, 40))]
    assert len(index.starting_with(keyed("聯")[0])) == 6
    index.remove(7)
    assert 7 not in [c.id for c in index.exact(keyed("聯發")[0])] and 7 not in index.contacts.get(keyed("王總")[0])
