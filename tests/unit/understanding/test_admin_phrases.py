"""Admin sentences that are requests, not notes: "delete customer X" in three languages, and the notes that only
mention deleting, which stay notes."""

from __future__ import annotations

import pytest

from core.understanding.admin_phrases import DeleteCustomer, delete_customer


@pytest.mark.parametrize(("text", "name", "quoted"), [
    ("刪除「電子」這個客戶", "電子", True),
    ("删除电子这个客户", "电子", False),
    ("刪除客戶「大同五金行」", "大同五金行", True),
    ("删除客户 大同五金", "大同五金", False),
    ("請幫我刪除「電子」這個客戶。", "電子", True),
    ("把電子這個客戶刪掉", "電子", False),
    ("把「大同五金」这个客户删除吧", "大同五金", True),
    ("delete customer Acme", "Acme", False),
    ("Delete the customer \"Acme Co., Ltd.\"", "Acme Co., Ltd.", True),
    ("please remove customer Joe's Diner.", "Joe's Diner", False),
])
def test_a_delete_request_names_its_customer(text, name, quoted):
    assert delete_customer(text) == DeleteCustomer(name, quoted)


@pytest.mark.parametrize("text", [
    "客戶說要刪除舊訂單",
    "刪除舊訂單",
    "刪除客戶的舊訂單",
    "删除客户资料",
    "大同五金行王總說要刪除上次的報價，明天回電",
    "刪除這個客戶的訂單",
    "刪除「電子」這個客戶\n明天回電",
    "刪除「電子這個客戶",
    "delete the old quote for Acme",
    "the customer asked us to delete customer data",
    "delete customer",
    "Acme wants to delete customer records next week",
    "",
])
def test_a_note_that_mentions_deleting_stays_a_note(text):
    assert delete_customer(text) is None
