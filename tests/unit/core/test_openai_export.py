"""Reading CTranslate2's model.bin layout (small files written here byte by byte) and choosing an engine."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from core.settings import load_settings
from core.voice import TranscriptionService, VoiceSetupError
from core.voice.openai_export import dequantize, read_ct2


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("<H", len(data)) + data


def _variable(name: str, value: np.ndarray, type_id: int) -> bytes:
    raw = value.tobytes()
    return (_string(name) + struct.pack("<B", value.ndim) + struct.pack(f"<{value.ndim}I", *value.shape)
            + struct.pack("<BI", type_id, len(raw)) + raw)


def _model(variables: list[bytes], aliases: list[tuple[str, str]], version: int = 6) -> bytes:
    body = struct.pack("<I", version) + _string("WhisperSpec") + struct.pack("<II", 3, len(variables))
    body += b"".join(variables) + struct.pack("<I", len(aliases))
    return body + b"".join(_string(alias) + _string(target) for alias, target in aliases)


def test_variables_aliases_and_scales_are_read(tmp_path):
    weight = np.array([[127, -64], [10, -127]], dtype=np.int8)
    scale = np.array([127 / 0.5, 127 / 2.0], dtype=np.float32)  # rows whose largest value is 0.5 and 2.0
    half = np.array([1.5, -0.25], dtype=np.float16)
    path = tmp_path / "model.bin"
    path.write_bytes(_model([_variable("a/weight", weight, 1), _variable("a/weight_scale", scale, 0),
                             _variable("b/bias", half, 4), _variable("heads", np.array(8, dtype=np.int16), 2),
                             _variable("c", np.array([0x3FC0], dtype="<u2"), 5)],
                            [("d/weight", "a/weight")]))
    spec, variables = read_ct2(path)
    assert spec == "WhisperSpec" and int(variables["heads"]) == 8
    assert variables["b/bias"].dtype == np.float16 and variables["b/bias"].tolist() == [1.5, -0.25]
    assert variables["c"].tolist() == [1.5]  # bfloat16 0x3FC0
    assert variables["d/weight"] is variables["a/weight"] and "d/weight_scale" in variables
    assert np.allclose(dequantize(variables["a/weight"], variables["a/weight_scale"]),
                       [[0.5, -64 / 254], [10 * 2 / 127, -2.0]])
    assert np.allclose(dequantize(np.array([1024, -512], dtype=np.int16), np.float32(1024)), [1.0, -0.5])


def test_a_cut_off_or_newer_model_is_refused_clearly(tmp_path):
    data = _model([_variable("w", np.ones((4, 4), dtype=np.float32), 0)], [])
    (tmp_path / "cut.bin").write_bytes(data[:40])
    with pytest.raises(VoiceSetupError, match="incomplete"):
        read_ct2(tmp_path / "cut.bin")
    (tmp_path / "new.bin").write_bytes(_model([], [], version=7))
    with pytest.raises(VoiceSetupError, match="binary version 7"):
        read_ct2(tmp_path / "new.bin")


def test_an_unknown_engine_is_refused():
    with pytest.raises(VoiceSetupError, match="'faster' or 'openai'"):
        TranscriptionService.from_settings(load_settings("/nonexistent.toml", whisper_engine="tensorflow"))
