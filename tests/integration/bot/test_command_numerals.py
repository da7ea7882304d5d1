"""Numbers written in Chinese in chat, on both databases (issue 17 item 7; tour items 1, 2, 11): a note's 三萬五 and
一百二十萬五千 without 元 on the card and its deal button, 廿/卅 dates as the follow-up, and /important, /silentdays,
/digest, /hours reading 十四, 十四天, ４５天, `7 days`, 七點半, 下午三點; out-of-range days get the usage; one close
customer name is asked about as one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from core.models import Customer, FollowUp, Member, Team
from core.uow import unit_of_work
from tests.conversation import joined


def customer(app, name: str) -> Customer:
    with unit_of_work(app.engine) as uow:
        return uow.session.exec(select(Customer).where(Customer.name == name)).one()


def due_of(app, name: str) -> datetime:
    with unit_of_work(app.engine) as uow:
        found = uow.session.exec(select(FollowUp.due_at).join(Customer, Customer.id == FollowUp.customer_id)
                                 .where(Customer.name == name)).one()
    return found


def member(app, name: str) -> Member:
    with unit_of_work(app.engine) as uow:
        return uow.session.exec(select(Member).where(Member.name == name)).one()


async def test_amounts_and_nian_dates_in_notes(app, owner, sales):
    cn = await joined(owner, "sales3", "王大明", "zh-CN")
    await sales.say("拜訪大同五金王總 報價一百二十萬五千 十二月廿五日前回覆")
    assert "$1,205,000" in sales.text and "12月25日" in sales.text
    assert any("方案報價 · $1,205,000" in b.label for r in sales.last for row in r.buttons for b in row)
    due = due_of(app, "大同五金")  # 25 December 09:00 in Taipei: the 25th in UTC too
    assert (due.year, due.month, due.day) == (app.clock.now().year, 12, 25)
    await cn.say("拜访华为李经理 报价三万五 廿一号前回复")
    assert "¥35,000" in cn.text and "21日" in cn.text and "廿" not in cn.text
    await owner.say("Visited Globex, Tanaka wants a quote, budget 35k, follow up on the 25th")
    assert "35,000" in owner.text and "25" in owner.text


async def test_important_reads_chinese_numerals_and_day_words(app, owner, sales):
    cn = await joined(owner, "sales3", "王大明", "zh-CN")
    await sales.say("拜訪大同五金王總 報價三萬五")
    await cn.say("拜访华为李经理 报价三万五")
    await owner.say("Visited Globex, Tanaka wants 500 units")
    await sales.say("/important 大同五金 十四")
    assert "已標為重要客戶:14 天" in sales.text
    await sales.say("/重要 大同五金 廿天")
    assert "已標為重要客戶:20 天" in sales.text and customer(app, "大同五金").silent_days == 20
    await cn.say("/重要 华为 三十天")
    assert "已标为重要客户:30 天" in cn.text and customer(app, "华为").silent_days == 30
    await owner.say("/important Globex 7 days")
    assert "after 7 days" in owner.text and customer(app, "Globex").silent_days == 7
    await owner.say("/important Globex １４日")
    assert "after 14 days" in owner.text
    await owner.say("/important Globex 3 weeks")
    assert "after 21 days" in owner.text and customer(app, "Globex").silent_days == 21
    await sales.say("/important 大同五金 四百")
    assert "請傳 /important" in sales.text and customer(app, "大同五金").silent_days == 20


async def test_silentdays_digest_and_hours_read_chinese_numerals(app, owner, sales):
    await owner.say("/silentdays 三十")
    assert "after 30 days" in owner.text
    await owner.say("/沉默天數 ４５天")
    assert "after 45 days" in owner.text
    await owner.say("/silentdays 四百")
    assert "from 1 to 365" in owner.text and "45" in owner.text
    with unit_of_work(app.engine) as uow:
        assert uow.session.exec(select(Team.silent_days)).one() == 45
    await sales.say("/早報 七點半")
    assert "07:30" in sales.text and member(app, "陳小姐").digest_time == "07:30"
    await owner.say("/digest 下午三點")
    assert "15:00" in owner.text and member(app, "Amy Lin").digest_time == "15:00"
    await sales.say("/早報 二十五點")
    assert "我看不懂「二十五點」是幾點" in sales.text and member(app, "陳小姐").digest_time == "07:30"
    await sales.say("/hours 九點到下午六點")
    assert (member(app, "陳小姐").work_start, member(app, "陳小姐").work_end) == ("09:00", "18:00")


async def test_one_close_name_is_asked_about_as_one(app, owner, sales):
    await sales.say("拜訪大同五金王總 報價三萬五")
    await sales.say("/c 大同五金 台北")
    assert sales.text.startswith("沒有叫「大同五金 台北」的客戶。你是指 大同五金 嗎?")
    assert "好幾位" not in sales.text
    await sales.press("大同五金")
    assert "🏢 <b>大同五金</b>" in sales.text
