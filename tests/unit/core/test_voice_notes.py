"""Transcribing a member's recording: the language Whisper hears, and one error type with the reply's code."""

from __future__ import annotations

import pytest

from core.ports import Transcript
from core.usecases.notes import NoteResult, NoteStatus, NoteView
from core.usecases.views import CustomerRef
from core.usecases.voice_notes import VoiceNoteError, transcribe_for, whisper_language
from core.voice.errors import AudioError, VoiceSetupError

HEARD = Transcript("你好", "zh", 0.9, 2.0, 0.5, engine="fake")


class FakeTranscription:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[bytes, str | None, str | None]] = []

    async def transcribe(self, audio: bytes, *, language: str | None = None,
                         script: str | None = None) -> Transcript:
        self.calls.append((audio, language, script))
        if self.error is not None:
            raise self.error
        return HEARD


@pytest.mark.parametrize(("language", "heard"), [("zh-Hant", "zh"), ("zh-Hans", "zh"), ("en", "en"), ("ja", None)])
def test_whisper_hears_the_members_language(language, heard):
    assert whisper_language(language) == heard


async def test_the_transcript_is_asked_in_the_members_language_and_script():
    transcription = FakeTranscription()
    assert await transcribe_for(transcription, b"ogg", "zh-Hant") is HEARD
    assert transcription.calls == [(b"ogg", "zh", "zh-Hant")]


@pytest.mark.parametrize(("error", "code"), [(AudioError("silence"), "silence"), (AudioError("busy", "queue"), "busy"),
                                             (VoiceSetupError("no model"), "unavailable")])
async def test_unusable_audio_and_a_missing_model_become_one_error_with_the_reply_code(error, code):
    with pytest.raises(VoiceNoteError) as raised:
        await transcribe_for(FakeTranscription(error), b"ogg", "en")
    assert raised.value.code == code


def _view(customer: CustomerRef | None, *, deleted: bool = False) -> NoteView:
    return NoteView(1, "text", "note", customer, None, (), None, False, False, deleted, None, (), None)


def test_only_a_live_unfiled_note_asks_for_its_customer():
    assert NoteResult(NoteStatus.STORED, _view(None)).must_ask
    assert not NoteResult(NoteStatus.STORED, _view(CustomerRef(1, "Acme"))).must_ask
    assert not NoteResult(NoteStatus.CHANGED, _view(None, deleted=True)).must_ask
    assert not NoteResult(NoteStatus.NOTHING).must_ask
