"""Convert a CTranslate2 Whisper model (`model.bin`) into an openai-whisper checkpoint.

`model.bin` (little-endian) is: u32 binary version, the spec name and u32 revision (version >= 2), u32 count
of variables, each a name, u8 rank, u32 dimensions, u8 dtype id and u32 byte count (version >= 4; before
that an item size and an element count) followed by the raw data, then (version >= 3) u32 count of
aliases, each an alias and a target name. Strings are a u16 length counting a final NUL. Weights saved as
int8/int16 come with a `<name>_scale` variable: float = value / scale (per output row for int8).

openai-whisper keeps query/key/value apart where CTranslate2 fuses them: the self-attention
`linear_0` is query+key+value, the cross-attention `linear_1` is key+value; keys have no bias there, so
the (zero) key bias is dropped. Everything else maps one to one.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from core.voice.errors import VoiceSetupError
from core.voice.model import sha256_of

FORMAT = 1  # bump when the checkpoint layout changes, so cached exports are redone
DType = type[np.generic] | str  # a NumPy scalar type, or "bfloat16" (NumPy has none)
DTYPES: dict[int, DType] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
OLD_DTYPES: dict[int, DType] = {4: np.float32, 2: np.int16, 1: np.int8}  # binary version < 4 stored only the item size


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, size: int) -> memoryview:
        if self.at + size > len(self.data):
            raise VoiceSetupError(f"model.bin is incomplete: wanted {size} bytes at offset {self.at}")
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def number(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return bytes(self.take(self.number("H"))).rstrip(b"\0").decode()


def _array(raw: memoryview, dtype: DType, shape: list[int]) -> np.ndarray:
    if dtype == "bfloat16":  # the upper half of a float32
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def read_ct2(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name and every variable of a CTranslate2 `model.bin`, aliases resolved, as stored."""
    with path.open("rb") as handle:
        reader = _Reader(memoryview(handle.read()))
    version = reader.number("I")
    if not 2 <= version <= 6:
        raise VoiceSetupError(f"{path} has CTranslate2 binary version {version}; this converter reads 2 to 6")
    spec = reader.string()
    reader.number("I")  # spec revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.number("I")):
        name = reader.string()
        shape = [reader.number("I") for _ in range(reader.number("B"))]
        if version >= 4:
            dtype, size = DTYPES.get(reader.number("B")), reader.number("I")
        else:
            item = reader.number("B")
            dtype, size = OLD_DTYPES.get(item), reader.number("I") * item
        if dtype is None:
            raise VoiceSetupError(f"{path}: variable {name} has an unknown data type")
        variables[name] = _array(reader.take(size), dtype, shape)
    if version >= 3:
        for _ in range(reader.number("I")):
            alias, target = reader.string(), reader.string()
            for suffix in ("", "_scale"):
                if target + suffix in variables:
                    variables[alias + suffix] = variables[target + suffix]
    return spec, variables


def dequantize(value: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """float32 from an int8 (one scale per output row) or int16 (one scale) CTranslate2 weight."""
    scale = np.asarray(scale, dtype=np.float32)
    if scale.ndim == 0:
        return value.astype(np.float32) / scale
    return value.astype(np.float32) / scale.reshape((-1,) + (1,) * (value.ndim - 1))


def _floats(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Quantised weights dequantised; float16/float32 kept as they are (no loss)."""
    out = {}
    for name, value in variables.items():
        if name.endswith("_scale"):
            continue
        if value.dtype.kind == "i" and value.ndim > 0 and name + "_scale" in variables:
            value = dequantize(value, variables[name + "_scale"])
        out[name] = value
    return out


def _split(value: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(value, parts, axis=0)


def _attention(v: dict, ct2: str, ow: str, fused: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Unfuse one attention block: `fused` is the CTranslate2 linear holding `names` (query/key/value)."""
    state = {}
    weights, biases = _split(v[f"{ct2}/{fused}/weight"], len(names)), _split(v[f"{ct2}/{fused}/bias"], len(names))
    for name, weight, bias in zip(names, weights, biases, strict=True):
        state[f"{ow}.{name}.weight"] = weight
        if name == "key":
            if np.any(bias != 0):
                raise VoiceSetupError(f"{ct2}: the key bias is not zero; openai-whisper has no key bias")
        else:
            state[f"{ow}.{name}.bias"] = bias
    return state


def _linear(v: dict, ct2: str, ow: str) -> dict[str, np.ndarray]:
    return {f"{ow}.weight": v[f"{ct2}/weight"], f"{ow}.bias": v[f"{ct2}/bias"]}


def _norm(v: dict, ct2: str, ow: str) -> dict[str, np.ndarray]:
    return {f"{ow}.weight": v[f"{ct2}/gamma"], f"{ow}.bias": v[f"{ct2}/beta"]}


def _layers(v: dict, side: str) -> int:
    return len({name.split("/")[1] for name in v if re.match(rf"{side}/layer_\d+/", name)})


def to_openai(variables: dict[str, np.ndarray]) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """openai-whisper `dims` and `model_state_dict` (as numpy arrays) from CTranslate2 Whisper variables."""
    v = _floats(variables)
    try:
        state = {"encoder.conv1.weight": v["encoder/conv1/weight"], "encoder.conv1.bias": v["encoder/conv1/bias"],
                 "encoder.conv2.weight": v["encoder/conv2/weight"], "encoder.conv2.bias": v["encoder/conv2/bias"],
                 "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
                 "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
                 "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
                 **_norm(v, "encoder/layer_norm", "encoder.ln_post"), **_norm(v, "decoder/layer_norm", "decoder.ln")}
        layers = {"encoder": _layers(v, "encoder"), "decoder": _layers(v, "decoder")}
        for side, count in layers.items():
            for i in range(count):
                ct2, ow = f"{side}/layer_{i}", f"{side}.blocks.{i}"
                state |= _attention(v, f"{ct2}/self_attention", f"{ow}.attn", "linear_0", ("query", "key", "value"))
                state |= _linear(v, f"{ct2}/self_attention/linear_1", f"{ow}.attn.out")
                state |= _norm(v, f"{ct2}/self_attention/layer_norm", f"{ow}.attn_ln")
                state |= _linear(v, f"{ct2}/ffn/linear_0", f"{ow}.mlp.0")
                state |= _linear(v, f"{ct2}/ffn/linear_1", f"{ow}.mlp.2")
                state |= _norm(v, f"{ct2}/ffn/layer_norm", f"{ow}.mlp_ln")
                if side == "decoder":
                    state |= _linear(v, f"{ct2}/attention/linear_0", f"{ow}.cross_attn.query")
                    state |= _attention(v, f"{ct2}/attention", f"{ow}.cross_attn", "linear_1", ("key", "value"))
                    state |= _linear(v, f"{ct2}/attention/linear_2", f"{ow}.cross_attn.out")
                    state |= _norm(v, f"{ct2}/attention/layer_norm", f"{ow}.cross_attn_ln")
        conv1, audio_pos, text_pos = (v["encoder/conv1/weight"], v["encoder/position_encodings/encodings"],
                                      v["decoder/position_encodings/encodings"])
        dims = {"n_mels": conv1.shape[1], "n_audio_ctx": audio_pos.shape[0], "n_audio_state": audio_pos.shape[1],
                "n_audio_head": int(v["encoder/num_heads"]), "n_audio_layer": layers["encoder"],
                "n_vocab": v["decoder/embeddings/weight"].shape[0], "n_text_ctx": text_pos.shape[0],
                "n_text_state": text_pos.shape[1], "n_text_head": int(v["decoder/num_heads"]),
                "n_text_layer": layers["decoder"]}
    except KeyError as missing:
        raise VoiceSetupError(f"the CTranslate2 model lacks the variable {missing}; is it a Whisper model?") from None
    return {key: int(value) for key, value in dims.items()}, state


def export_openai(model_dir: Path, out: Path) -> Path:
    """Write the openai-whisper checkpoint for `model_dir/model.bin` to `out` (atomically); return `out`."""
    torch = _torch()
    spec, variables = read_ct2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise VoiceSetupError(f"{model_dir}/model.bin is a CTranslate2 {spec}, not a Whisper model")
    dims, state = to_openai(variables)
    checkpoint = {"dims": dims,
                  "model_state_dict": {name: torch.from_numpy(np.array(value)) for name, value in state.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(checkpoint, stream)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return out


def cached_checkpoint(model_dir: Path, cache_dir: Path) -> Path:
    """The openai-whisper checkpoint for `model_dir`, exported into `cache_dir` once (named by checksum)."""
    verified = model_dir / ".verified"  # written by model.assemble_default_model after checking the sha256
    digest = verified.read_text().strip() if verified.is_file() else sha256_of(model_dir / "model.bin")
    target = cache_dir / f"whisper-{digest[:16]}-openai-v{FORMAT}.pt"
    return target if target.is_file() else export_openai(model_dir, target)


def _torch():
    try:
        import torch
    except ImportError as error:
        raise VoiceSetupError("the openai-whisper engine needs torch and openai-whisper: "
                              "pip install -e '.[openai-whisper]'") from error
    return torch
