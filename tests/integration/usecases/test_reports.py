"""Report figures on real SQLite and PostgreSQL with a controlled clock (core/usecases/reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.models import Customer, Deal, DealStageChange, FollowUp, Interaction, Member
from core.services import teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import reports

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei


def taipei(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TAIPEI).astimezone(UTC)


@pytest.fixture
def team(engine):
    """An owner (Amy) and two salespeople (Ben, Cai) with a month of activity, deals and payments."""
    with unit_of_work(engine) as uow:
        s = uow.session
        owner = teams.found_team(s, teams.Newcomer("test", "1", "dm1", "Amy"))
        ben = Member(team_id=owner.team_id, name="Ben", role="sales")
        cai = Member(team_id=owner.team_id, name="蔡小姐", role="sales")
        s.add_all([ben, cai])
        s.flush()
        tid = owner.team_id

        def customer(name: str, who: Member, created: datetime, **kw) -> Customer:
            row = Customer(team_id=tid, name=name, name_key=name.lower(), owner_id=who.id, created_at=created, **kw)
            s.add(row)
            s.flush()
            return row

        acme = customer("Acme", ben, taipei(11, 3))
        xin = customer("新光設計", ben, taipei(10, 2), important=True, last_interaction_at=taipei(9, 1))
        tai = customer("大同五金行", cai, taipei(11, 10))
        old = customer("Old Co", cai, taipei(5, 1))
        for who, kind, at in [(ben, "visit", taipei(11, 4)), (ben, "visit", taipei(11, 5)), (ben, "call", taipei(11, 6)),
                              (ben, "note", taipei(11, 7)), (ben, "voice", taipei(11, 8)),
                              (cai, "meeting", taipei(11, 12)), (cai, "visit", taipei(10, 30)),  # October: not counted
                              (cai, "note", taipei(11, 13))]:
            s.add(Interaction(team_id=tid, customer_id=acme.id, member_id=who.id, kind=kind, occurred_at=at, text="x"))
        s.add(Interaction(team_id=tid, customer_id=acme.id, member_id=ben.id, kind="visit", occurred_at=taipei(11, 9),
                          text="undone", deleted_at=taipei(11, 9)))
        for who, due, done, status in [(ben, taipei(11, 5), taipei(11, 5, 9), "done"),   # on time
                                       (ben, taipei(11, 6), taipei(11, 8), "done"),      # late
                                       (ben, taipei(11, 16), None, "pending"),           # overdue now
                                       (cai, taipei(11, 20), None, "pending"),           # not yet due
                                       (cai, taipei(11, 1), None, "sent")]:              # overdue now
            s.add(FollowUp(team_id=tid, member_id=who.id, customer_id=acme.id, due_at=due, action="call",
                           status=status, done_at=done))
        s.add(FollowUp(team_id=tid, member_id=ben.id, customer_id=xin.id, due_at=taipei(11, 14), action="尾款",
                       kind="payment", amount=Decimal("30000"), currency="TWD"))
        deals = [
            Deal(team_id=tid, customer_id=acme.id, owner_id=ben.id, title="A1", stage="won", amount=Decimal("150000"),
                 currency="TWD", created_at=taipei(11, 3), won_at=taipei(11, 10), closed_at=taipei(11, 10)),
            Deal(team_id=tid, customer_id=xin.id, owner_id=ben.id, title="X1", stage="won", amount=Decimal("50000"),
                 currency="TWD", created_at=taipei(10, 3), won_at=taipei(11, 11), closed_at=taipei(11, 11)),
            Deal(team_id=tid, customer_id=tai.id, owner_id=cai.id, title="T1", stage="lost", amount=Decimal("9000.50"),
                 currency="TWD", created_at=taipei(11, 11), lost_at=taipei(11, 15), lost_reason="price"),
            Deal(team_id=tid, customer_id=tai.id, owner_id=cai.id, title="T2", stage="proposal",
                 amount=Decimal("12000"), currency="USD", created_at=taipei(11, 12)),
            Deal(team_id=tid, customer_id=old.id, owner_id=cai.id, title="O1", stage="initial", created_at=taipei(11, 13)),
        ]
        s.add_all(deals)
        s.flush()
        a1, x1, t1, t2, _ = deals
        for deal, moves in [(a1, [("initial", "needs", taipei(11, 5)), ("needs", "proposal", taipei(11, 7)),
                                  ("proposal", "won", taipei(11, 10))]),
                            (x1, [("initial", "won", taipei(11, 11))]),
                            (t1, [("initial", "lost", taipei(11, 15))]),
                            (t2, [("initial", "proposal", taipei(11, 14))])]:
            for source, target, at in moves:
                s.add(DealStageChange(team_id=tid, deal_id=deal.id, member_id=deal.owner_id, from_stage=source,
                                      to_stage=target, at=at))
        actors = {m.name: Actor.of(m) for m in (owner, ben, cai)}
    return actors


def test_team_month_per_salesperson(engine, team):
    with unit_of_work(engine) as uow:
        report = reports.report_for(uow, team["Amy"], NOW, "month")
    assert report.period.start == datetime(2026, 10, 31, 16, tzinfo=UTC) and report.period.end == NOW
    assert report.period.first_day == date(2026, 11, 1) and report.period.last_day == date(2026, 11, 18)
    assert report.team_view
    by = {m.name: m for m in report.members}
    assert set(by) == {"Amy", "Ben", "蔡小姐"}
    ben, cai = by["Ben"], by["蔡小姐"]
    assert (ben.visits, ben.calls, ben.meetings, ben.notes) == (2, 1, 0, 2)
    assert (cai.visits, cai.calls, cai.meetings, cai.notes) == (0, 0, 1, 1)
    assert (ben.follow_ups_done_on_time, ben.follow_ups_done_late, ben.follow_ups_overdue) == (1, 1, 1)
    assert (cai.follow_ups_done_on_time, cai.follow_ups_done_late, cai.follow_ups_overdue) == (0, 0, 1)
    assert (ben.new_customers, cai.new_customers) == (1, 1)
    assert (ben.deals_created, ben.deals_won, ben.deals_lost) == (1, 2, 0)
    assert (cai.deals_created, cai.deals_won, cai.deals_lost) == (3, 0, 1)
    assert ben.won == (("TWD", Decimal("200000.00")),)
    stages = {s.key: s for s in report.stages}
    assert [s.key for s in report.stages] == ["initial", "needs", "proposal", "won", "lost"]
    assert stages["proposal"].deals == 1 and stages["proposal"].amount == (("USD", Decimal("12000.00")),)
    assert stages["won"].deals == 2 and stages["lost"].deals == 1
    assert stages["lost"].amount == (("TWD", Decimal("9000.50")),)
    # funnel over the 5 deals of the month by the furthest stage reached (a skipped stage counts as passed):
    # A1 and X1 won, T2 at proposal, T1 lost from initial, O1 at initial
    assert [stages[k].reached for k in ("initial", "needs", "proposal", "won")] == [5, 3, 3, 2]
    rates = {(c.from_key, c.to_key): c.rate for c in report.conversion}
    assert rates == {("initial", "needs"): pytest.approx(0.6), ("needs", "proposal"): pytest.approx(1.0),
                     ("proposal", "won"): pytest.approx(2 / 3)}
    # A1 spent 2 days in needs (5th → 7th) and 3 in proposal (7th → 10th)
    assert stages["needs"].average_days == pytest.approx(2.0)
    assert stages["proposal"].average_days == pytest.approx(3.0)
    assert [c.name for c in report.top_customers] == ["Acme", "新光設計"]
    assert report.top_customers[0].share == pytest.approx(0.75) and report.customers_for_80 == 2
    assert [p.customer for p in report.payments_overdue] == ["新光設計"]
    assert report.payments_overdue[0].amount == Decimal("30000.00")
    assert [c.name for c in report.silent] == ["新光設計"] and report.silent[0].quiet_days == 78
    weeks = {b.day: b.won for b in report.won_over_time}
    assert list(weeks) == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert weeks[date(2026, 11, 9)] == (("TWD", Decimal("200000.00")),)
    assert not report.empty


def test_salesperson_sees_only_own_figures(engine, team):
    with unit_of_work(engine) as uow:
        report = reports.report_for(uow, team["Ben"], NOW, "month")
    assert not report.team_view and [m.name for m in report.members] == ["Ben"]
    assert [s.deals for s in report.stages if s.key in ("proposal", "lost")] == [0, 0]
    assert [c.name for c in report.top_customers] == ["Acme", "新光設計"]
    with unit_of_work(engine) as uow:
        cai = reports.report_for(uow, team["蔡小姐"], NOW, "month")
    assert cai.top_customers == () and cai.payments_overdue == () and cai.silent == ()


def test_week_and_past_week_in_member_zone(engine, team):
    with unit_of_work(engine) as uow:
        week = reports.report_for(uow, team["Amy"], NOW, "week")
        past = reports.report_for(uow, team["Amy"], NOW, "week", past=True)
    assert week.period.first_day == date(2026, 11, 16) and week.period.start == datetime(2026, 11, 15, 16, tzinfo=UTC)
    assert past.period.first_day == date(2026, 11, 9) and past.period.last_day == date(2026, 11, 15)
    assert past.period.end == datetime(2026, 11, 15, 16, tzinfo=UTC)
    assert len(past.won_over_time) == 7
    assert {m.name: m.deals_won for m in past.members}["Ben"] == 2
    assert {m.name: m.deals_lost for m in past.members}["蔡小姐"] == 1


def test_quarter_and_empty_period(engine, team):
    with unit_of_work(engine) as uow:
        quarter = reports.report_for(uow, team["Amy"], NOW, "quarter")
        empty = reports.report_for(uow, team["Amy"], NOW + timedelta(days=400), "week")
    assert quarter.period.first_day == date(2026, 10, 1)
    assert {m.name: m.visits for m in quarter.members}["蔡小姐"] == 1  # the October visit counts in the quarter
    assert all(m.activity == 0 for m in empty.members) and empty.top_customers == ()
    assert all(b.won == () for b in empty.won_over_time)


def test_period_words():
    assert reports.parse_period("週") == "week" and reports.parse_period("季度") == "quarter"
    assert reports.parse_period("") == "month" and reports.parse_period("Month") == "month"
    assert reports.parse_period("fortnight") is None
