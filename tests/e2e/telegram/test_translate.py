"""Telegram updates as python-telegram-bot parses them (Update.de_json) → core.chat: edits, vCards, audio files."""

from __future__ import annotations

import time

import pytest
from telegram import Update

from adapters.telegram.translate import to_incoming
from adapters.telegram.vcard import parse_vcard
from core.chat import ButtonIn, ContactIn, EditedIn, FileIn, VoiceIn
from tests.fakes.telegram_api import USERNAME, callback, message, user

VCARD_21 = ("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3;=E7=BE=8E=E7=8E=B2\r\n"
            "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=A4=A7=E5=90=8C=E4=BA=94=E9=87=91;=E6=\r\n"
            "=A5=AD=E5=8B=99=E9=83=A8\r\nTITLE:Purchasing Manager\r\nitem1.EMAIL;type=INTERNET:meiling.chen@datong.com.tw\r\n"
            "TEL;CELL:0912 345 678\r\nTEL;TYPE=WORK:02-2712-3456\r\nEND:VCARD\r\n")
VCARD_30 = ("BEGIN:VCARD\nVERSION:3.0\nFN:Lee Wei\nORG:Acme Trading\\, Ltd.;Sales\nTITLE:Head of\n  Procurement\n"
            "EMAIL;TYPE=work:wei.lee@acme.example\nTEL;TYPE=cell:+852 9123 4567\nEND:VCARD\n")


def parse(data: dict) -> object:
    return to_incoming(Update.de_json({"update_id": 1, **data}, None), USERNAME)


def test_an_edit_of_the_members_own_private_message_is_edited_in_with_the_original_id():
    edited = message("Visited Acme, follow up Monday", edit_date=int(time.time()))["message"]
    incoming = parse({"edited_message": edited})
    assert isinstance(incoming, EditedIn)
    assert incoming.text == "Visited Acme, follow up Monday" and incoming.env.message_id == str(edited["message_id"])


def test_edits_in_groups_and_of_captions_are_ignored():
    group = message("Visited Acme", chat_id=-500, chat_type="group", sender=user(42))["message"]
    assert parse({"edited_message": group}) is None
    caption = message(None, caption="Acme", photo=[{"file_id": "p", "file_unique_id": "pu", "width": 1,
                                                    "height": 1}])["message"]
    assert parse({"edited_message": caption}) is None


@pytest.mark.parametrize(("name", "mime"), [("jfk.ogg", "application/octet-stream"), ("拜訪.m4a", None),
                                            ("memo", "audio/mpeg"), ("call.opus", "application/ogg"),
                                            ("rec.WAV", None), ("talk.flac", None)])
def test_audio_files_sent_as_documents_are_voice_notes(name, mime):
    document = {"file_id": "d1", "file_unique_id": "d1u", "file_name": name, "file_size": 1000}
    if mime:
        document["mime_type"] = mime
    incoming = parse(message(None, document=document))
    assert isinstance(incoming, VoiceIn) and incoming.attachment.file_name == name


def test_other_documents_stay_files_with_their_caption():
    incoming = parse(message(None, caption="Acme quote", document={"file_id": "d2", "file_unique_id": "d2u",
                                                                   "file_name": "quote.pdf",
                                                                   "mime_type": "application/pdf"}))
    assert isinstance(incoming, FileIn) and incoming.caption == "Acme quote"


def test_a_shared_contacts_vcard_fills_company_title_email_and_every_phone():
    incoming = parse(message(None, contact={"phone_number": "0912345678", "first_name": "美玲", "last_name": "陳",
                                            "vcard": VCARD_21}))
    assert isinstance(incoming, ContactIn)
    assert (incoming.company, incoming.title, incoming.email) == ("大同五金", "Purchasing Manager",
                                                                 "meiling.chen@datong.com.tw")
    assert incoming.phones == ("0912345678", "02-2712-3456")  # the same number written twice is one


def test_vcard_3_escapes_and_folded_lines():
    card = parse_vcard(VCARD_30)
    assert card.company == "Acme Trading, Ltd." and card.title == "Head of Procurement"
    assert card.email == "wei.lee@acme.example" and card.phones == ("+852 9123 4567",)
    assert parse_vcard("not a card at all") == parse_vcard(None) == parse_vcard("")


def test_a_button_on_a_group_card_knows_its_group_and_addressee():
    incoming = parse(callback("n:undo:1", message_id=9, chat_id=-500, chat_type="supergroup",
                              sender=user(43), addressee=user(42)))
    assert isinstance(incoming, ButtonIn)
    assert incoming.env.is_group and incoming.addressee == "42" and incoming.env.sender.platform_user_id == "43"
