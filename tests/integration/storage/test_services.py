"""Core services on real SQLite and PostgreSQL: visibility, resolution, merge, follow-ups, search, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, func, select

from core.db import session_scope
from core.models import AuditEvent, Customer, FollowUp, Interaction, Member, Role
from core.services import customer_removal, customers, followups, interactions, teams
from core.services.actor import Actor
from core.services.errors import InvalidInput, InvalidInvite, NotAllowed, NotFound
from core.services.interactions import Source
from core.services.search import search_notes

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def _team(session, name="Amy", platform_user="1"):
    owner = teams.found_team(session, teams.Newcomer("test", platform_user, "dm1", name))
    return Actor.of(owner)


def _join(session, owner: Actor, user: str, role: str = Role.sales.value) -> Actor:
    invite = teams.create_invite(session, owner, role)
    return Actor.of(teams.join(session, invite.code, teams.Newcomer("test", user, f"dm{user}", f"user{user}")))


def test_first_user_founds_team_others_need_valid_invite(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        assert owner.role == Role.owner.value
        with pytest.raises(InvalidInvite):
            teams.found_team(session, teams.Newcomer("test", "2", "dm2", "Bob"))
        with pytest.raises(InvalidInvite):
            teams.join(session, "NOPE1234", teams.Newcomer("test", "2", "dm2", "Bob"))
        invite = teams.create_invite(session, owner)
        bob = teams.join(session, invite.code.lower(), teams.Newcomer("test", "2", "dm2", "Bob"))
        assert bob.team_id == owner.team_id and bob.role == Role.sales.value
        with pytest.raises(InvalidInvite):  # single use
            teams.join(session, invite.code, teams.Newcomer("test", "3", "dm3", "Cat"))
        with pytest.raises(NotAllowed):
            teams.create_invite(session, Actor.of(bob))


def test_expired_invite_is_refused(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        invite = teams.create_invite(session, owner, now=NOW - timedelta(days=8))
        with pytest.raises(InvalidInvite):
            teams.join(session, invite.code, teams.Newcomer("test", "2", "dm2", "Bob"), now=NOW)


def test_sales_see_own_and_shared_customers_managers_see_team(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        amy = _join(session, owner, "2")
        bob = _join(session, owner, "3")
        manager = _join(session, owner, "4", Role.manager.value)
        mine = customers.create_customer(session, amy, "大同五金行")
        shared = customers.create_customer(session, bob, "Acme Trading", shared=True)
        private = customers.create_customer(session, bob, "永豐電子")
        assert customers.resolve_customer(session, amy, "永豐電子").customer is None
        with pytest.raises(NotFound):
            customers.get_visible(session, amy, private.id)
        assert customers.get_visible(session, amy, shared.id).id == shared.id
        assert customers.get_visible(session, manager, private.id).id == private.id
        assert {c.id for c in customers.list_customers(session, amy)} == {mine.id, shared.id}


def test_nothing_crosses_teams(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        customer = customers.create_customer(session, owner, "Acme")
        other_team = Member(team_id=owner.team_id + 1000, name="x", role=Role.owner.value)
        stranger = Actor(9999, owner.team_id + 1000, Role.owner.value, "Asia/Taipei", "en")
        assert not stranger.can_see(customer)
        assert customers.resolve_customer(session, stranger, "Acme").customer is None
        assert other_team.team_id != owner.team_id


def test_resolve_exact_alias_width_script_and_fuzzy(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        yongfeng = customers.create_customer(session, owner, "永豐五金行", aliases=["永豐"])
        acme = customers.create_customer(session, owner, "ACME Trading Co.")
        assert customers.resolve_customer(session, owner, "永丰五金行").customer.id == yongfeng.id
        assert customers.resolve_customer(session, owner, "永丰").customer.id == yongfeng.id
        assert customers.resolve_customer(session, owner, "ａｃｍｅ trading co").customer.id == acme.id
        assert customers.resolve_customer(session, owner, "Acme Tradng Co").customer.id == acme.id  # typo
        assert customers.resolve_customer(session, owner, "Globex").customer is None


def test_several_close_candidates_are_ambiguous(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        customers.create_customer(session, owner, "大同五金")
        customers.create_customer(session, owner, "大同電子")
        result = customers.resolve_customer(session, owner, "大同")
        assert result.customer is None and result.ambiguous
        assert {c.name for c in result.candidates} == {"大同五金", "大同電子"}


def test_rename_keeps_old_name_findable_and_merge_moves_everything(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        a = customers.create_customer(session, owner, "Acme")
        b = customers.create_customer(session, owner, "Acme Taiwan")
        customers.rename_customer(session, owner, a.id, "Acme Corp")
        assert customers.resolve_customer(session, owner, "Acme").customer.id == a.id
        interactions.log_interaction(session, owner, text="call", customer_id=b.id)
        customers.add_contact(session, owner, b.id, "Mr. Lee", title="buyer")
        kept, moved, changed = customer_removal.merge(session, owner, a.id, b.id)
        assert kept.id == a.id and changed and moved["interaction"] == 1
        card = customers.customer_card(session, owner, a.id)
        assert card.interaction_count == 1 and [c.name for c in card.contacts] == ["Mr. Lee"]
        assert customers.resolve_customer(session, owner, "Acme Taiwan").customer.id == a.id
        with pytest.raises(NotFound):
            customers.get_visible(session, owner, b.id)
        with pytest.raises(InvalidInput):
            customer_removal.merge(session, owner, a.id, a.id)


def test_log_is_idempotent_per_source_and_undo_cancels_follow_up(engine):
    source = Source("telegram", "42", "1001")
    with session_scope(engine) as session:
        owner = _team(session)
        acme = customers.create_customer(session, owner, "Acme")
        first, created = interactions.log_interaction(session, owner, text="visit", customer_id=acme.id,
                                                      source=source, occurred_at=NOW)
        again, created_again = interactions.log_interaction(session, owner, text="visit", source=source)
        assert created and not created_again and again.id == first.id
        follow_up = followups.schedule(session, owner, due_at=NOW + timedelta(days=1), action="quote",
                                       customer_id=acme.id, source_interaction_id=first.id)
        assert interactions.undo(session, owner, first.id)[1] is True
        assert interactions.undo(session, owner, first.id)[1] is False
        session.flush()
        session.expire_all()
        assert session.get(FollowUp, follow_up.id).status == "cancelled"
        count = session.exec(select(func.count()).select_from(Interaction)).one()
        assert count == 1


def test_follow_up_buttons_are_idempotent(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        acme = customers.create_customer(session, owner, "Acme")
        follow_up = followups.schedule(session, owner, due_at=NOW, action="send quote", customer_id=acme.id)
        later = NOW + timedelta(hours=1)
        assert followups.snooze(session, owner, follow_up.id, later)[1] is True
        assert followups.snooze(session, owner, follow_up.id, later)[1] is False
        assert followups.complete(session, owner, follow_up.id)[1] is True
        assert followups.complete(session, owner, follow_up.id)[1] is False
        assert followups.snooze(session, owner, follow_up.id, later + timedelta(hours=1))[1] is False
        assert followups.open_for(session, owner) == []


def test_other_salesperson_cannot_touch_my_follow_up(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        amy, bob = _join(session, owner, "2"), _join(session, owner, "3")
        acme = customers.create_customer(session, amy, "Acme")
        follow_up = followups.schedule(session, amy, due_at=NOW, action="call", customer_id=acme.id)
        with pytest.raises(NotFound):
            followups.complete(session, bob, follow_up.id)
        assert followups.complete(session, owner, follow_up.id)[1] is True  # owners may


def test_search_finds_chinese_without_spaces_short_terms_and_respects_visibility(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        amy, bob = _join(session, owner, "2"), _join(session, owner, "3")
        mine = customers.create_customer(session, amy, "大同五金行")
        theirs = customers.create_customer(session, bob, "永豐電子")
        interactions.log_interaction(session, amy, text="拜訪王總,他要A100一百件的報價", customer_id=mine.id)
        interactions.log_interaction(session, amy, text="Visited, wants a quotation for 200 units",
                                     customer_id=mine.id)
        interactions.log_interaction(session, bob, text="永豐也要A100報價", customer_id=theirs.id)
        assert [i.text for i, _ in search_notes(session, amy, "A100一百件")] == ["拜訪王總,他要A100一百件的報價"]
        assert len(search_notes(session, amy, "报价")) == 1  # Simplified finds Traditional; two characters
        assert len(search_notes(session, amy, "QUOTATION 200")) == 1
        assert len(search_notes(session, owner, "A100")) == 2
        assert search_notes(session, amy, "nothing-like-this") == []
        assert search_notes(session, amy, "   ") == []


def test_every_write_is_audited(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        acme = customers.create_customer(session, owner, "Acme")
        interaction, _ = interactions.log_interaction(session, owner, text="call", customer_id=acme.id)
        follow_up = followups.schedule(session, owner, due_at=NOW, action="x", customer_id=acme.id)
        followups.complete(session, owner, follow_up.id)
        interactions.undo(session, owner, interaction.id)
        actions = session.exec(select(AuditEvent.entity, AuditEvent.action).order_by(col(AuditEvent.id))).all()
        assert ("customer", "create") in actions
        assert ("interaction", "create") in actions and ("interaction", "undo") in actions
        assert ("followup", "create") in actions and ("followup", "done") in actions
        undo = session.exec(select(AuditEvent).where(AuditEvent.action == "undo")).one()
        assert undo.before["deleted_at"] is None and undo.after["deleted_at"] is not None


def test_timestamps_round_trip_as_aware_utc(engine):
    with session_scope(engine) as session:
        owner = _team(session)
        acme = customers.create_customer(session, owner, "Acme")
        followups.schedule(session, owner, due_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), action="x",
                           customer_id=acme.id)
    with session_scope(engine) as session:
        row = session.exec(select(FollowUp)).one()
        assert row.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC) and row.due_at.tzinfo is not None
        customer = session.exec(select(Customer)).one()
        assert customer.created_at.tzinfo is not None


def test_a_failed_unit_of_work_writes_nothing(engine):
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        owner = _team(session)
        customers.create_customer(session, owner, "Acme")
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 0
        assert session.exec(select(func.count()).select_from(Member)).one() == 0


def test_fuzzy_prefilter_for_large_teams_still_finds_one_typo(engine, monkeypatch):
    from core.services import name_index

    monkeypatch.setattr(name_index, "SMALL_TEAM", 0)  # force the bigram prefilter
    with session_scope(engine) as session:
        owner = _team(session)
        acme = customers.create_customer(session, owner, "Acme Trading Co.")
        customers.create_customer(session, owner, "Globex Industries")
        customers.create_customer(session, owner, "永豐五金行")
        assert customers.resolve_customer(session, owner, "Acme Tradng Co").customer.id == acme.id
        assert customers.resolve_customer(session, owner, "Acne Trading Co").customer.id == acme.id
        assert customers.resolve_customer(session, owner, "Initech").customer is None
