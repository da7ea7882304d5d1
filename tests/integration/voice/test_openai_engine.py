"""The optional openai-whisper engine on a checkpoint converted from the packaged CTranslate2 model."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from core.settings import load_settings
from core.text import to_simplified
from core.voice import AudioError, TranscriptionService
from core.voice.common import decode
from core.voice.openai_export import cached_checkpoint, dequantize, read_ct2, to_openai
from core.voice.service import model_dir
from tests.integration.voice.conftest import AUDIO, encode, pink_noise, wav
from tests.integration.voice.test_transcription import REFERENCES, error_rate, pooled_error_rate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def extra():
    """openai-whisper and torch; CI installs them, so there a missing extra fails instead of skipping."""
    missing = [name for name in ("torch", "whisper") if importlib.util.find_spec(name) is None]
    if missing:
        message = f"the openai-whisper extra is not installed ({', '.join(missing)}): pip install -e '.[openai-whisper]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def openai_settings(extra, whisper_cache):
    return load_settings("/nonexistent.toml", whisper_cache_dir=whisper_cache, whisper_engine="openai")


@pytest.fixture(scope="session")
def openai_service(openai_settings):
    created = TranscriptionService.from_settings(openai_settings)
    yield created
    created.close()


def test_the_checkpoint_is_exported_once_and_loads_strictly(openai_settings):
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    source = model_dir(openai_settings)
    checkpoint = cached_checkpoint(source, Path(openai_settings.whisper_cache_dir))
    assert checkpoint.name.startswith("whisper-d01c3014881c9c6f-openai")
    assert cached_checkpoint(source, Path(openai_settings.whisper_cache_dir)).stat().st_mtime == checkpoint.stat().st_mtime
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert saved["dims"] == {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8,
                             "n_audio_layer": 6, "n_vocab": 51865, "n_text_ctx": 448, "n_text_state": 512,
                             "n_text_head": 8, "n_text_layer": 6}
    expected = Whisper(ModelDimensions(**saved["dims"])).state_dict().keys()
    assert set(saved["model_state_dict"]) == set(expected)
    _, variables = read_ct2(source / "model.bin")
    fused = variables["decoder/layer_2/self_attention/linear_0/weight"]
    state = saved["model_state_dict"]
    assert np.array_equal(state["decoder.blocks.2.attn.value.weight"].numpy(), fused[1024:])
    assert np.array_equal(state["decoder.blocks.2.cross_attn.key.weight"].numpy(),
                          variables["decoder/layer_2/attention/linear_1/weight"][:512])
    assert whisper.load_model(str(checkpoint), device="cpu").is_multilingual


@pytest.mark.parametrize(("language", "target"), [("en", 0.05), ("zh", 0.15)])
async def test_real_speech_within_the_error_targets(openai_service, language, target, capsys):
    rate, results = await pooled_error_rate(openai_service, language, capsys, "openai-whisper ")
    assert all((result.language, result.engine) == (language, "openai-whisper") for result in results)
    assert rate <= target, f"{language}: {rate:.1%}"


async def test_mandarin_is_detected_and_written_in_the_members_script(openai_service):
    result = await openai_service.transcribe((AUDIO / "funasr_asr_example.ogg").read_bytes(), script="zh-Hant")
    assert result.language == "zh" and result.language_probability > 0.6
    assert "歡迎" in result.text and not result.low_confidence


async def test_a_multi_sentence_mandarin_note_keeps_every_sentence(openai_service):
    first = decode((AUDIO / "funasr_asr_example.ogg").read_bytes())
    second = decode((AUDIO / "aishell-BAC009S0724W0121.ogg").read_bytes())
    gap = np.zeros(16000, dtype=np.float32)
    result = await openai_service.transcribe(wav(np.concatenate([first, gap, second, gap, first])), language="zh")
    text = to_simplified(result.text)
    assert text.count("欢迎大家") == 2 and "协会" in text


async def test_speech_ending_well_before_the_audio_is_marked_doubtful(openai_service):
    note = np.concatenate([decode((AUDIO / "jfk.ogg").read_bytes()), np.zeros(16000 * 14, dtype=np.float32)])
    result = await openai_service.transcribe(wav(note), language="en")
    assert "fellow Americans" in result.text
    assert result.low_confidence and "speech_ended_early" in result.reasons


def test_an_int8_ctranslate2_model_is_dequantised(openai_settings, tmp_path):
    """A model saved in int8 by CTranslate2's own spec code: weights come back within half a step."""
    from ctranslate2.specs import whisper_spec

    source = model_dir(openai_settings)
    _, variables = read_ct2(source / "model.bin")
    spec = whisper_spec.WhisperSpec(6, 8, 6, 8)
    for name, value in variables.items():
        if value.ndim:
            scope, attribute = name.rsplit("/", 1)
            setattr(_index(spec, scope), attribute, value.astype(np.float32))
    spec.register_vocabulary((source / "vocabulary.txt").read_text(encoding="utf-8").splitlines())
    spec.validate()
    spec.optimize("int8")
    spec.save(str(tmp_path))
    _, quantised = read_ct2(tmp_path / "model.bin")
    assert quantised["encoder/conv2/weight"].dtype == np.int8 and "encoder/conv2/weight_scale" in quantised
    restored = dequantize(quantised["encoder/conv2/weight"], quantised["encoder/conv2/weight_scale"])
    original = variables["encoder/conv2/weight"].astype(np.float32)
    step = np.abs(original).max(axis=(1, 2), keepdims=True) / 127
    assert np.all(np.abs(restored - original) <= step / 2 + 1e-6)
    _, state = to_openai(quantised)
    assert state["decoder.token_embedding.weight"].dtype == np.float32


def _index(spec, scope: str):
    for key in scope.split("/"):
        if hasattr(spec, key):
            spec = getattr(spec, key)
        else:  # attention keeps its linears in a list: linear_0 is linear[0]
            base, index = key.rsplit("_", 1)
            spec = getattr(spec, base)[int(index)]
    return spec


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"%PDF-1.7 this is a brochure, not a voice note" * 20, "not_audio"),
    ((AUDIO / "jfk.ogg").read_bytes()[:300], "truncated"),
    (wav(np.zeros(16000 * 6, dtype=np.float32)), "silence"),
    (wav(np.random.default_rng(7).normal(0, 0.05, 16000 * 6).astype(np.float32)), "silence"),
    (encode(pink_noise(8), "ogg", "libopus", 48000), "silence"),
    (wav(np.zeros(16000 * 301, dtype=np.float32) + 0.01), "too_long"),
])
async def test_bad_audio_gets_the_same_codes(openai_service, data, code):
    with pytest.raises(AudioError) as caught:
        await openai_service.transcribe(data, language="en")
    assert caught.value.code == code


def test_a_note_over_its_time_limit_stops_with_timeout(openai_settings):
    from core.voice.openai_engine import OpenAIWhisper

    engine = OpenAIWhisper(model_dir(openai_settings), Path(openai_settings.whisper_cache_dir), time_limit=(0.0, 0.0))
    with pytest.raises(AudioError) as caught:
        engine.transcribe((AUDIO / "jfk.ogg").read_bytes(), language="en")
    assert caught.value.code == "timeout"


def test_cli_transcribes_with_the_openai_engine(openai_settings, monkeypatch):
    from bot.cli import build_app

    monkeypatch.setenv("WHISPER_CACHE_DIR", str(openai_settings.whisper_cache_dir))
    result = CliRunner().invoke(build_app(), ["transcribe", str(AUDIO / "jfk.ogg"), "--engine", "openai", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"text", "language", "language_probability", "duration", "seconds", "low_confidence"}
    assert payload["language"] == "en" and payload["duration"] == 11.0
    assert error_rate(REFERENCES["jfk.ogg"][1], payload["text"], "en") <= 0.05


def test_cli_exports_a_checkpoint(openai_settings, tmp_path):
    from bot.cli import build_app

    out = tmp_path / "base.pt"
    result = CliRunner().invoke(build_app(), ["voice", "export-openai", "--model-dir",
                                              str(model_dir(openai_settings)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out) and out.stat().st_size > 100_000_000
    assert not list(tmp_path.glob(".base.pt.*"))  # no temporary file left behind
