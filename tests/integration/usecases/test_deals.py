"""Deals and the funnel on both databases: stages created lazily from config, moves with history and audit,
exact amounts, visibility, stage management for managers, and the pipeline figures (aggregated in SQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from core.models import AuditEvent, Customer, Deal, PipelineStage, Team
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.uow import unit_of_work
from core.usecases import deals
from tests.integration.usecases.test_customer_truth import NOW, run, team


def customer(engine, actor: Actor, name: str) -> int:
    with unit_of_work(engine) as uow:
        created = customer_service.create_customer(uow.session, actor, name)
        uow.session.flush()
        assert created.id is not None
        return created.id


def test_default_stages_come_from_config_once_in_the_members_language(engine):
    amy, _manager, chen, _bob = team(engine)
    first, _ = run(engine, lambda uow: deals.stages(uow, chen))
    again, _ = run(engine, lambda uow: deals.stages(uow, amy))
    assert [s.key for s in first] == ["initial", "needs", "proposal", "won", "lost"]
    assert [s.name for s in first] == ["初步接觸", "需求確認", "方案報價", "簽約成交", "輸單"]
    assert [s.probability for s in first] == [10, 30, 60, 100, 0]
    assert [s.outcome for s in first] == ["open", "open", "open", "won", "lost"]
    assert [s.key for s in again] == [s.key for s in first]
    english = Actor(chen.member_id, chen.team_id, chen.role, chen.timezone, "en")
    assert run(engine, lambda uow: deals.stages(uow, english))[0][2].name == "Proposal & quote"
    with unit_of_work(engine) as uow:
        assert len(uow.session.exec(select(PipelineStage).where(PipelineStage.team_id == chen.team_id)).all()) == 5


def test_a_deal_moves_from_first_contact_to_won_with_history_and_audit(engine):
    _amy, _manager, chen, _bob = team(engine)
    cid = customer(engine, chen, "新光設計")
    created, _ = run(engine, lambda uow: deals.create_deal(uow, chen, NOW, cid, "辦公室裝修", amount="150000",
                                                           currency="twd"))
    assert created.stage.key == "initial" and created.probability == 10
    assert created.amount == Decimal("150000.00") and created.currency == "TWD"
    later = NOW + timedelta(days=1)
    moved, _ = run(engine, lambda uow: deals.move_deal(uow, chen, later, created.id, "proposal"))
    assert moved.stage.name == "方案報價" and moved.probability == 60 and moved.last_activity_at == later
    again, _ = run(engine, lambda uow: deals.move_deal(uow, chen, later + timedelta(hours=1), created.id, "proposal"))
    assert again.last_activity_at == later  # a second press changes nothing
    won, _ = run(engine, lambda uow: deals.win(uow, chen, later + timedelta(days=2), created.id))
    assert won.stage.outcome == "won" and won.won_at == later + timedelta(days=2) and not won.is_open
    history, _ = run(engine, lambda uow: deals.stage_history(uow, chen, created.id))
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, "initial"), ("initial", "proposal"),
                                                             ("proposal", "won")]
    assert {h.member_name for h in history} == {"陳小姐"}
    with unit_of_work(engine) as uow:
        actions = uow.session.exec(select(AuditEvent.action).where(AuditEvent.entity == "deal")
                                   .order_by(col(AuditEvent.id))).all()
        row = uow.session.get(Deal, created.id)
        assert row is not None and row.closed_at == won.won_at
    assert actions == ["deal.create", "deal.stage", "deal.stage"]


def test_lost_keeps_the_reason_and_reopening_clears_it(engine):
    _amy, _manager, chen, _bob = team(engine)
    cid = customer(engine, chen, "大同五金行")
    deal, _ = run(engine, lambda uow: deals.create_deal(uow, chen, NOW, cid, "200 台"))
    lost, _ = run(engine, lambda uow: deals.lose(uow, chen, NOW, deal.id, "輸給  競爭對手"))
    assert lost.stage.key == "lost" and lost.lost_reason == "輸給 競爭對手" and lost.lost_at == NOW
    reopened, _ = run(engine, lambda uow: deals.move_deal(uow, chen, NOW, deal.id, "needs"))
    assert reopened.lost_at is None and reopened.lost_reason is None and reopened.is_open


def test_amounts_are_exact_and_bad_input_is_refused(engine):
    _amy, _manager, chen, _bob = team(engine)
    cid = customer(engine, chen, "新光設計")
    deal, _ = run(engine, lambda uow: deals.create_deal(uow, chen, NOW, cid, "報價"))
    priced, _ = run(engine, lambda uow: deals.set_amount(uow, chen, NOW, deal.id, "1,234,567,890.10", "USD"))
    assert priced.amount == Decimal("1234567890.10")
    assert run(engine, lambda uow: deals.get_deal(uow, chen, deal.id))[0].amount == Decimal("1234567890.10")
    for bad in ("abc", "-5", "0", "1e30", "nan"):
        with pytest.raises(InvalidInput):
            run(engine, lambda uow, bad=bad: deals.set_amount(uow, chen, NOW, deal.id, bad, "USD"))
    with pytest.raises(InvalidInput):
        run(engine, lambda uow: deals.set_amount(uow, chen, NOW, deal.id, "100", "dollars"))
    with pytest.raises(NotFound):
        run(engine, lambda uow: deals.move_deal(uow, chen, NOW, deal.id, "nonexistent"))
    closing, _ = run(engine, lambda uow: deals.set_expected_close(uow, chen, NOW, deal.id, date(2026, 11, 30)))
    assert closing.expected_close == date(2026, 11, 30)


def test_a_colleagues_private_customer_and_its_deals_stay_hidden(engine):
    _amy, manager, chen, bob = team(engine)
    cid = customer(engine, chen, "新光設計")
    deal, _ = run(engine, lambda uow: deals.create_deal(uow, chen, NOW, cid, "報價"))
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: deals.get_deal(uow, bob, deal.id))
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: deals.move_deal(uow, bob, NOW, deal.id, "won"))
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: deals.create_deal(uow, bob, NOW, cid, "mine"))
    assert [d.id for d in run(engine, lambda uow: deals.deals_for_customer(uow, manager, cid))[0]] == [deal.id]
    with pytest.raises(NotFound):
        run(engine, lambda uow: deals.get_deal(uow, chen, 999_999))


def test_managers_rename_add_and_reorder_stages_salespeople_may_not(engine):
    amy, manager, chen, _bob = team(engine)
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: deals.rename_stage(uow, chen, "needs", "需求"))
    renamed, _ = run(engine, lambda uow: deals.rename_stage(uow, manager, "needs", "  需求 確認中 "))
    assert renamed.name == "需求 確認中"
    english = Actor(chen.member_id, chen.team_id, chen.role, chen.timezone, "en")
    assert run(engine, lambda uow: deals.stages(uow, english))[0][1].name == "Needs confirmed"
    added, _ = run(engine, lambda uow: deals.add_stage(uow, amy, "議價", 80))
    order = [s.key for s in run(engine, lambda uow: deals.stages(uow, chen))[0]]
    assert order == ["initial", "needs", "proposal", added.key, "won", "lost"]
    with pytest.raises(InvalidInput):
        run(engine, lambda uow: deals.add_stage(uow, amy, "議價"))
    with pytest.raises(InvalidInput):
        run(engine, lambda uow: deals.add_stage(uow, amy, "x" * 41))
    moved, _ = run(engine, lambda uow: deals.move_stage_up(uow, manager, added.key))
    assert [s.key for s in moved] == ["initial", "needs", added.key, "proposal", "won", "lost"]
    first, _ = run(engine, lambda uow: deals.move_stage_up(uow, manager, "initial"))
    assert [s.key for s in first] == [s.key for s in moved]


def test_pipeline_totals_forecast_closing_and_stalled(engine):
    amy, _manager, chen, bob = team(engine)
    shin = customer(engine, chen, "新光設計")
    tatung = customer(engine, chen, "大同五金行")
    acme = customer(engine, bob, "Acme")
    old = NOW - timedelta(days=20)
    a, _ = run(engine, lambda uow: deals.create_deal(uow, chen, old, shin, "A", amount="150000", currency="TWD",
                                                     stage="proposal", expected_close=date(2026, 11, 28)))
    run(engine, lambda uow: deals.create_deal(uow, chen, NOW, tatung, "B", amount="100000.50", currency="TWD"))
    run(engine, lambda uow: deals.create_deal(uow, chen, NOW, tatung, "C", amount="2000", currency="USD",
                                              stage="needs", expected_close=date(2026, 12, 3)))
    won, _ = run(engine, lambda uow: deals.create_deal(uow, bob, NOW, acme, "D", amount="5000", currency="USD"))
    run(engine, lambda uow: deals.win(uow, bob, NOW, won.id))
    with unit_of_work(engine) as uow:  # 新光設計's last note is old too: the deal is stalled
        row = uow.session.get(Customer, shin)
        assert row is not None
        row.last_interaction_at = old
        uow.session.add(row)
    mine, _ = run(engine, lambda uow: deals.pipeline(uow, chen, NOW))
    assert not mine.team_wide and [m.name for m in mine.members] == ["陳小姐"]
    by_key = {row.stage.key: row for row in mine.totals}
    assert by_key["initial"].deals == 1 and by_key["initial"].amounts == (deals.Money("TWD", Decimal("100000.50")),)
    assert by_key["proposal"].weighted == (deals.Money("TWD", Decimal("90000.00")),)
    assert by_key["won"].deals == 0
    assert mine.forecast == (deals.Money("TWD", Decimal("100000.05")), deals.Money("USD", Decimal("600.00")))
    assert [d.title for d in mine.closing_this_month] == ["A"]
    assert [d.title for d in mine.stalled] == ["A"] and mine.stalled_count == 1 and mine.stalled_days == 14
    team_view, _ = run(engine, lambda uow: deals.pipeline(uow, amy, NOW))
    assert team_view.team_wide and sorted(m.name for m in team_view.members) == ["Bob Wu", "陳小姐"]
    bob_row = next(m for m in team_view.members if m.name == "Bob Wu")
    assert {r.stage.key: r.deals for r in bob_row.stages}["won"] == 1 and bob_row.forecast == ()
    per_stage, _ = run(engine, lambda uow: deals.deals_per_stage(uow, amy, team=True))
    assert [r.deals for r in per_stage] == [1, 1, 1, 1, 0]
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: deals.deals_per_stage(uow, chen, member_id=bob.member_id))
    with unit_of_work(engine) as uow:  # the team's own setting decides when a deal is stalled
        row_team = uow.session.get(Team, chen.team_id)
        assert row_team is not None
        row_team.stalled_days = 30
        uow.session.add(row_team)
    assert run(engine, lambda uow: deals.pipeline(uow, chen, NOW))[0].stalled_count == 0
    changes, _ = run(engine, lambda uow: deals.stage_changes(uow, amy, NOW - timedelta(days=1), NOW + timedelta(1)))
    assert [(c.from_stage, c.to_stage) for c in changes][-1] == ("initial", "won")
    assert a.id not in {c.deal_id for c in changes}


def test_an_empty_pipeline_is_a_friendly_zero(engine):
    _amy, _manager, chen, _bob = team(engine)
    view, _ = run(engine, lambda uow: deals.pipeline(uow, chen, NOW))
    assert [r.deals for r in view.totals] == [0, 0, 0, 0, 0] and view.forecast == () and view.stalled == ()
