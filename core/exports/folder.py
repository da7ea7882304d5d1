"""An unzipped export folder, read as the one file it stands for.

A Slack export folder (`users.json` beside one folder per channel) becomes the zip Slack would have sent (the
JSON files only, stored uncompressed, in memory); a folder holding WhatsApp's `_chat.txt` (or one `.txt`) or
Telegram Desktop's `result.json` becomes that file. The bytes then go through `parse_export` like an upload.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from core.exports import slack
from core.exports.model import MAX_EXPORT_BYTES, ExportError

TELEGRAM_FILE = "result.json"
WHATSAPP_FILE = "_chat.txt"


def read_folder(folder: Path) -> tuple[bytes, str]:
    """The export the folder holds, as (bytes, the file name to parse it under); `ExportError` when none."""
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
    except OSError as error:
        raise ExportError("unknown_format", f"cannot read the folder: {error}") from error
    names = [p.relative_to(folder).as_posix() for p in files]
    if slack.sniff(names):
        return _zipped(folder, [n for n in names if n.endswith(".json")]), f"{folder.name}.zip"
    for wanted in (TELEGRAM_FILE, WHATSAPP_FILE):
        found = [p for p in files if p.name == wanted]
        if found:
            chosen = min(found, key=lambda p: len(p.parts))
            return _read(chosen), folder.name if wanted == WHATSAPP_FILE else chosen.name
    texts = [p for p in files if p.suffix.lower() == ".txt" and p.parent == folder]
    if len(texts) == 1:
        return _read(texts[0]), texts[0].name
    raise ExportError("unknown_format", "the folder holds no Slack export, WhatsApp _chat.txt or Telegram "
                                        "result.json")


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_EXPORT_BYTES:
        raise ExportError("too_large", f"exports up to {MAX_EXPORT_BYTES // 2**20} MB are read")
    return path.read_bytes()


def _zipped(folder: Path, names: list[str]) -> bytes:
    if sum((folder / name).stat().st_size for name in names) > MAX_EXPORT_BYTES:
        raise ExportError("too_large", f"exports up to {MAX_EXPORT_BYTES // 2**20} MB are read")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.write(folder / name, name)
    return buffer.getvalue()
