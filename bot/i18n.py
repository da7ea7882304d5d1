"""Message catalogues: `bot/locales/<language>/*.toml`, one file per area, merged per language.

Every key exists in all three languages (a test checks it). Values are `str.format` templates; the
caller escapes user-supplied values for the reply markup (see `bot.render.esc`).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
FALLBACK = "en"


def _flatten(prefix: str, table: dict, out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(language: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.toml")):
        with path.open("rb") as handle:
            _flatten(path.stem, tomllib.load(handle), messages)
    return messages


def normalize_language(code: str | None, default: str = "zh-Hant") -> str:
    """Map a platform language code (zh-hant, zh-TW, zh-CN, en-US…) to one of ours."""
    if not code:
        return default
    lowered = code.lower().replace("_", "-")
    if lowered in ("zh-hant", "zh-tw", "zh-hk", "zh-mo"):
        return "zh-Hant"
    if lowered in ("zh-hans", "zh-cn", "zh-sg", "zh"):
        return "zh-Hans" if lowered != "zh" else default if default.startswith("zh") else "zh-Hans"
    if lowered.startswith("en"):
        return "en"
    return default


def t(language: str, key: str, /, **values: object) -> str:
    """The message `key` (e.g. `core.help`) in `language`, formatted with `values`."""
    template = catalogue(language).get(key) or catalogue(FALLBACK).get(key)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format(**values) if values else template
