"""Deals in chat on both databases: /deal lists or starts a customer's deals, stage buttons move them (twice
is once), lost asks for the reason, /pipeline shows the funnel (the team's for managers), /stages lets a manager
rename, reorder and add stages; bad input gets a short answer in the member's language."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from core.chat import ButtonIn
from core.db import session_scope
from core.models import Deal, DealStageChange, FollowUp


def stored(app) -> list[Deal]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(Deal).order_by(Deal.id)))


async def tap(chat, payload: str):
    """A press on a button with this payload (an old message's, or one the member never got)."""
    return await chat.send(ButtonIn(chat.envelope(message_id="98"), payload, callback_id=payload))


def payloads(reply) -> list[str]:
    return [b.payload for row in reply.buttons for b in row]


async def test_a_deal_from_first_contact_to_won_with_buttons(app, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 200 units")
    listed = (await owner.say("/deal Acme"))[0]
    assert "has no deals yet" in listed.text and "dl:new:" in payloads(listed)[-1]
    created = (await owner.say("/deal Acme 200 units US$12,000"))[0]
    assert "➕ New deal for Acme." in created.text
    assert "Stage: Initial contact (10%)" in created.text and "Amount: $12,000" in created.text
    assert all(len(p.encode()) <= 64 for p in payloads(created))
    moved = (await owner.press("Proposal & quote"))[0]
    assert "Moved to Proposal &amp; quote." in moved.text and "(60%)" in moved.text and moved.edit
    again = (await owner.press("dl:mv:" + moved.buttons[0][0].payload.split(":")[2] + ":proposal", created))[0]
    assert "Already in Proposal &amp; quote." in again.text
    won = (await owner.press("Won", moved))[0]
    assert "Moved to Won." in won.text
    [deal] = stored(app)
    assert deal.stage == "won" and deal.amount == Decimal("12000.00") and deal.currency == "USD"
    with session_scope(app.engine) as session:
        moves = [(c.from_stage, c.to_stage) for c in session.exec(select(DealStageChange).order_by(DealStageChange.id))]
    assert moves == [(None, "initial"), ("initial", "proposal"), ("proposal", "won")]
    listed = (await owner.say("/deal Acme"))[0]
    assert "<b>Acme</b>: 1 deal" in listed.text and "200 units · Won · $12,000" in listed.text


async def test_lost_asks_the_reason_and_keeps_it(app, owner):
    await owner.say("Visited Globex about the new line")
    card = (await owner.say("/deal Globex new line NT$150,000"))[0]
    asked = (await owner.press("Lost", card))[0]
    assert "Why was <b>new line</b> lost?" in asked.text
    answered = (await owner.say("went with a competitor on price"))[0]
    assert "Moved to Lost." in answered.text and "Lost: went with a competitor on price" in answered.text
    assert stored(app)[0].lost_reason == "went with a competitor on price"


async def test_pipeline_shows_stages_amounts_forecast_in_the_members_locale(app, owner, sales):
    await sales.say("拜訪新光設計,討論辦公室裝修")
    created = (await sales.say("/deal 新光設計 辦公室裝修 15萬"))[0]
    assert "金額:$150,000" in created.text or "金額:NT$150,000" in created.text
    await sales.press("方案報價", created)
    mine = (await sales.say("/pipeline"))[0].text
    assert "你的銷售漏斗" in mine and "方案報價:1 筆" in mine and "加權預估:" in mine
    assert "90,000" in mine  # 60% of 150,000
    team = (await owner.say("/pipeline"))[0].text
    assert "Team pipeline" in team and "👤 <b>陳小姐</b>" in team and "Proposal &amp; quote: 1 deal" in team


async def test_bad_input_is_answered_politely(app, owner, sales):
    assert "I don't know a customer called “Nobody”" in (await owner.say("/deal Nobody"))[0].text
    await owner.say("Visited Initech about servers")
    assert "couldn't read that amount" in (await owner.say("/deal Initech servers $"))[0].text
    assert "no open deals" in (await owner.say("/deal"))[0].text
    assert (await owner.say("/pipeline"))[0].text.startswith("No deals yet.")
    stale = (await tap(owner, "dl:mv:999999:won"))[0].text
    assert "That deal is gone or not yours" in stale
    await owner.say("Visited Hooli about the roadmap")
    card = (await owner.say("/deal Hooli roadmap"))[0]
    deal_id = payloads(card)[0].split(":")[2]
    assert "這是同事的客戶" in (await tap(sales, f"dl:open:{deal_id}"))[0].text


async def test_a_manager_renames_reorders_and_adds_stages(app, owner, sales):
    shown = (await owner.say("/stages"))[0]
    assert "1. Initial contact · 10%" in shown.text and "dl:sa" in payloads(shown)
    assert (await sales.say("/stages"))[0].buttons == ()  # a salesperson sees the stages only
    refused = (await tap(sales, "dl:sr:needs"))[0].text
    assert refused == "只有負責人和經理可以修改階段。"
    await owner.press("✏️ Needs confirmed", shown)
    renamed = (await owner.say("Needs analysed"))[0].text
    assert "Renamed the stage to Needs analysed." in renamed and "2. Needs analysed · 30%" in renamed
    await owner.press("dl:sa", shown)
    assert "A stage name needs" in (await owner.say("x" * 41))[0].text
    added = (await owner.say("Negotiation"))[0].text
    assert "4. Negotiation · 60%" in added and "5. Won" in added
    up = (await owner.press("⬆️ Negotiation", (await owner.say("/stages"))[0]))[0].text
    assert "3. Negotiation" in up and "4. Proposal &amp; quote" in up


async def test_a_salesperson_moves_a_deal_from_notes_and_buttons_only(app, sales):
    first = (await sales.say("拜訪新光設計,王總要報價 NT$150,000,週五回覆"))[0]
    offer = next(b for row in first.buttons for b in row if b.payload.startswith("dp:ok:"))
    assert offer.label == "📈 方案報價 · $150,000 ✅" or offer.label == "📈 方案報價 · NT$150,000 ✅"
    created = (await sales.press(offer.label, first))[0]
    assert "方案報價" in created.text and created.edit
    again = (await sales.press(offer.payload, first))[0]  # a second press: the same deal, nothing new
    assert "方案報價" in again.text and len(stored(app)) == 1
    [deal] = stored(app)
    assert deal.amount == Decimal("150000.00") and deal.currency == "TWD" and deal.source_interaction_id
    signed = (await sales.say("新光設計簽約了"))[0]
    assert any("→ 簽約成交" in b.label for row in signed.buttons for b in row)
    await sales.press("簽約成交", signed)
    assert stored(app)[0].stage == "won" and stored(app)[0].won_at is not None
    plain = (await sales.say("拜訪新光設計,聊了近況"))[0]
    assert not any(p.startswith("dp:") for p in payloads(plain))  # an ordinary note proposes nothing


async def test_several_deals_ask_which_one_and_not_a_deal_stops_asking(app, owner):
    await owner.say("Visited Acme about servers")
    await owner.say("/deal Acme servers")
    await owner.say("/deal Acme support contract")
    note = (await owner.say("Acme lost to Initech on price"))[0]
    ask = next(b for row in note.buttons for b in row if b.payload.startswith("dp:pk:"))
    assert "which deal?" in ask.label
    which = (await owner.press(ask.payload, note))[0]
    assert which.text == "Which deal does the note mean?"
    lost = (await owner.press("servers", which))[0]
    assert "Lost: lost to Initech on price" in lost.text
    other = (await owner.say("Sent Acme the quote for support, US$3,000"))[0]
    assert any(p.startswith("dp:ok:") for p in payloads(other))  # one open deal left: it is meant
    dismissed = (await owner.press("Not a deal", other))[0]
    assert dismissed.text == "OK, not a deal."
    redrawn = (await owner.press("dp:no:" + payloads(other)[-1].split(":")[2], other))[0]
    assert redrawn.text == "OK, not a deal."
    assert [d.stage for d in stored(app)] == ["lost", "initial"]


async def test_the_customer_card_shows_deals_by_stage_name_with_a_next_stage_button(app, owner):
    await owner.say("Visited Umbrella about filters")
    await owner.say("/deal Umbrella filters US$5,000")
    card = (await owner.say("/c Umbrella"))[0]
    assert "💼 filters · Initial contact · $5,000" in card.text
    moved = (await owner.press("filters → Needs confirmed", card))[0]
    assert "Moved to Needs confirmed." in moved.text
    listed = (await owner.press("💼 Deals", card))[0]
    assert "<b>Umbrella</b>: 1 deal" in listed.text


async def test_a_payment_note_is_money_owed_on_the_card_until_received(app, sales):
    await sales.say("新光設計 尾款 3 萬 還沒收到,週五再催")
    with session_scope(app.engine) as session:
        [payment] = session.exec(select(FollowUp)).all()
    assert payment.kind == "payment" and payment.amount == Decimal("30000.00") and payment.currency == "TWD"
    card = (await sales.say("/c 新光設計"))[0]
    assert "💰 待收款:$30,000" in card.text or "💰 待收款:NT$30,000" in card.text
    done = (await sales.press("已收到", card))[0]
    assert done.text.startswith("✅ 已收到")
    again = (await sales.press("已收到", card))[0]
    assert "已經標記為收到了" in again.text
    with session_scope(app.engine) as session:
        assert session.exec(select(FollowUp)).one().status == "done"
    assert "待收款" not in (await sales.say("/c 新光設計"))[0].text
    await sales.say("新光設計 聊了下一季的需求,週五再聯絡")  # no payment words: an ordinary follow-up
    with session_scope(app.engine) as session:
        kinds = sorted(f.kind for f in session.exec(select(FollowUp)))
    assert kinds == ["followup", "payment"]


async def test_the_expected_close_date_is_typed_after_the_button_and_shows_in_the_pipeline(app, owner, clock):
    await owner.say("Visited Wayne Corp about lamps")
    card = (await owner.say("/deal Wayne Corp lamps US$800"))[0]
    asked = (await owner.press("📅 Close date", card))[0]
    assert "When do you expect <b>lamps</b> to close?" in asked.text
    assert "couldn't read that date" in (await owner.say("whenever"))[0].text  # asked again, politely
    today = clock.now().date()
    dated = (await owner.say(today.isoformat()))[0]
    assert f"Expected close: {today.isoformat()}" in dated.text
    assert "Expected to close this month (1):" in (await owner.say("/pipeline"))[0].text
