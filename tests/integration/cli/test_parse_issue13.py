"""Issue 13's reported notes through `chatcrm parse`, with no known customers and with 大同五金行, Acme, 美的集团,
华为 and Blue Harbour known (stdin, one note per line, as a member would check them)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import build_app

NOW = "2026-11-18T10:00:00+08:00"  # a Wednesday
KNOWN = [{"name": "大同五金行"}, {"name": "Acme"}, {"name": "美的集团"}, {"name": "华为"}, {"name": "Blue Harbour"}]
# note, customer with nobody known, customer with KNOWN, contact (or (nobody known, KNOWN)), next step (or None)
CASES = [
    ("大同電子 李副理 說下週二要來看樣品", "大同電子", "大同電子", "李副理", "來看樣品"),
    ("今天跟美的集团赵经理吃饭", "美的集团", "美的集团", "赵经理", None),
    ("拜访华为采购部刘总", "华为", "华为", "刘总", None),
    ("Acmee Lee said ok", "Acmee Lee", "Acme", (None, "Lee"), None),
    ("見了 acme lee 👍 下週再談", None, "Acme", (None, "lee"), "再談"),
    ("新客戶 宏碁電腦 林經理 要報價", "宏碁電腦", "宏碁電腦", "林經理", None),
    ("Met a new prospect, Delta Corp, CFO John Smith wants pricing", "Delta Corp", "Delta Corp", "John Smith", None),
    ("拜訪 3M 台灣分公司 陳課長", "3M 台灣分公司", "3M 台灣分公司", "陳課長", None),
    ("大同五金行的Amy說明天回覆", "大同五金行", "大同五金行", "Amy", "回覆"),
    ("met Jenny at Blue Harbour, they want a quote", "Blue Harbour", "Blue Harbour", "Jenny", None),
    ("提醒我下週三打電話給大同五金行王總確認交期", "大同五金行", "大同五金行", "王總", "打電話給王總確認交期"),
    # a team test's junk customers: a branch word, a bare 公司 and a legal form are parts of the name
    ("3M 台灣分公司 陳工程師 說下週來看樣品", "3M 台灣分公司", "3M 台灣分公司", "陳工程師", "來看樣品"),
    ("Acme Trading Co., Ltd. called about the order", "Acme Trading Co., Ltd.", "Acme", None, None),
    ("拜訪 acme 公司 李經理", "acme 公司", "Acme", "李經理", None),
    ("DATONG hardware co., ltd. wants 200 pcs", "DATONG hardware co., ltd.", "DATONG hardware co., ltd.", None, None),
    ("Acme Co., Ltd. asked for a quote", "Acme Co., Ltd.", "Acme", None, None),
]


@pytest.fixture(autouse=True)
def no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DEFAULT_TIMEZONE", "DEFAULT_COUNTRY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("known", [False, True], ids=["nobody-known", "five-known"])
def test_the_reported_notes(known, tmp_path):
    args = ["parse", "--now", NOW, "--tz", "Asia/Taipei"]
    if known:
        path = tmp_path / "customers.json"
        path.write_text(json.dumps(KNOWN, ensure_ascii=False), encoding="utf-8")
        args += ["--customers", str(path)]
    result = CliRunner().invoke(build_app(), args, input="".join(note + "\n" for note, *_ in CASES))
    assert result.exit_code == 0, result.output
    drafts = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(drafts) == len(CASES)
    for (note, nobody, with_known, contact, step), draft in zip(CASES, drafts, strict=True):
        assert draft["customer"] == (with_known if known else nobody), note
        expected = contact[known] if isinstance(contact, tuple) else contact
        assert draft["contact"] == expected, note
        if step is not None:
            assert draft["follow_up"]["action"] == step, note
    assert drafts[3]["customer_known"] is known  # Acmee → the known Acme, not a new "Acmee Lee"


@pytest.mark.parametrize(("country", "language", "note", "currency"), [
    ("CN", "zh-Hans", "美的集团预算200万元", "CNY"),
    ("TW", "zh-Hans", "美的集团预算200万元", "CNY"),  # Simplified script: yuan, even from Taiwan
    ("TW", "zh-Hant", "大同五金行預算200萬元", "TWD"),
    ("HK", "zh-Hant", "利豐貿易預算200萬元", "HKD"),
    ("TW", "zh-Hant", "大同五金行 人民幣 80 萬", "CNY"),  # an explicit marker wins
    ("CN", "zh-Hans", "格力 HK$30萬", "HKD"),
])
def test_currencies_by_marker_script_and_country(country, language, note, currency):
    result = CliRunner().invoke(build_app(), ["parse", "--now", NOW, "--tz", "Asia/Taipei", "--country", country,
                                              "--language", language, note])
    assert result.exit_code == 0, result.output
    [amount] = json.loads(result.stdout)["amounts"]
    assert amount["currency"] == currency


def test_a_count_of_pcbs_is_a_quantity_not_money():
    result = CliRunner().invoke(build_app(), ["parse", "--now", NOW, "--tz", "Asia/Taipei",
                                              "Acme wants 5,000 PCBs by Friday"])
    assert json.loads(result.stdout)["amounts"] == [{"value": 5000, "unit": "pcbs"}]
