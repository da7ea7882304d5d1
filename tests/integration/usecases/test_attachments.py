"""Files attached to customers on both databases: once per source message, visible only to who sees the customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.db import session_scope
from core.services import customers as customer_service
from core.services import teams
from core.services.actor import Actor
from core.services.errors import ServiceError
from core.uow import unit_of_work
from core.usecases import attachments
from core.usecases.attachments import AttachOutcome, Upload

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PDF = "%PDF-1.4\n% 報價單 大同五金\n".encode()


def team_of_two(engine) -> tuple[Actor, Actor]:
    with session_scope(engine) as session:
        owner = Actor.of(teams.found_team(session, teams.Newcomer("telegram", "42", "42", "林志明")))
        invite = teams.create_invite(session, owner, "sales", now=NOW)
        sales = Actor.of(teams.join(session, invite.code, teams.Newcomer("telegram", "43", "43", "陳美玲"), now=NOW))
    return owner, sales


def upload(message_id: str = "501", data: bytes = PDF, name: str = "報價單.pdf") -> Upload:
    return Upload(name, "application/pdf", data, "telegram", "42", message_id, "file-id-1")


def test_a_file_is_stored_once_per_message_and_listed_newest_first(engine):
    owner, _ = team_of_two(engine)
    with unit_of_work(engine) as uow:
        datong = customer_service.create_customer(uow.session, owner, "大同五金")
        customer_service.create_customer(uow.session, owner, "大同電子")
    with unit_of_work(engine) as uow:
        first = attachments.attach(uow, owner, NOW, "大同五金 報價單", upload())
    assert first.outcome is AttachOutcome.ATTACHED and first.customer.name == "大同五金" and first.file_count == 1
    with unit_of_work(engine) as uow:
        again = attachments.attach(uow, owner, NOW, "大同五金 報價單", upload())
    assert again.outcome is AttachOutcome.ALREADY and again.file.id == first.file.id and again.file_count == 1
    with unit_of_work(engine) as uow:
        attachments.attach(uow, owner, NOW.replace(hour=4), "大同五金", upload("502", b"\xff\xd8jpeg", "photo.jpg"))
        listed = attachments.files_of(uow, owner, datong.id)
        stored = attachments.file_data(uow, owner, first.file.id)
    assert [f.file_name for f in listed] == ["photo.jpg", "報價單.pdf"]
    assert stored is not None and stored.data == PDF and stored.view.size == len(PDF)


def test_a_caption_fitting_several_customers_or_none_is_refused_and_nothing_is_stored(engine):
    owner, sales = team_of_two(engine)
    with unit_of_work(engine) as uow:
        customer_service.create_customer(uow.session, owner, "大同五金")
        customer_service.create_customer(uow.session, owner, "大同電子")
        hidden = customer_service.create_customer(uow.session, owner, "永豐電子")
    with unit_of_work(engine) as uow:
        several = attachments.attach(uow, owner, NOW, "大同", upload("601"))
        none = attachments.attach(uow, owner, NOW, "Initech", upload("602"))
        unseen = attachments.attach(uow, sales, NOW, "永豐電子", upload("603"))  # the owner's, not shared
    assert several.outcome is AttachOutcome.AMBIGUOUS and {c.name for c in several.candidates} == {"大同五金", "大同電子"}
    assert none.outcome is AttachOutcome.NO_CUSTOMER and unseen.outcome is AttachOutcome.NO_CUSTOMER
    with unit_of_work(engine) as uow:
        assert attachments.files_of(uow, owner, hidden.id) == ()
        with pytest.raises(ServiceError):
            attachments.files_of(uow, sales, hidden.id)
