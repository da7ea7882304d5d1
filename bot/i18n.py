"""Message catalogues: `bot/locales/<language>/*.toml`, one file per area, merged per language.

Every message exists in all three languages (a test checks it). Values are `str.format` templates; the
caller escapes user-supplied values for the reply markup (see `bot.render.esc`).

- Commands are written `{cmd[todo]}`: `cmd` is the reader's platform's command forms
  (`bot.commands.CommandForms`; `ctx.t` passes them, `t` defaults to the slash forms `/todo`).
  `{alternative}` (used once, in the help) is the platform's second way to write commands (`/crm todo`
  on Slack) as a sentence, or nothing where there is none.
- A message that depends on a count has one variant per CLDR plural category of the language
  (`count_one`, `count_other` in English); a language with one form (Chinese) has just `count`.
  `t(language, "customers.count", n=1)` picks the variant by the count: `n`, or else the first of
  `COUNTS` passed.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from babel import Locale

from bot.commands import CommandForms
from core.chat import SLASH_COMMANDS

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
FALLBACK = "en"
BABEL_LOCALES = {"zh-Hant": "zh_Hant_TW", "zh-Hans": "zh_Hans_CN", "en": "en"}
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
COUNTS = ("n", "days", "minutes", "limit")  # the values that may choose a plural variant
SLASH_FORMS = CommandForms(SLASH_COMMANDS)


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


@cache
def babel_locale(language: str) -> Locale:
    """The Babel locale a member's language formats with (zh-Hant → zh_Hant_TW, zh-Hans → zh_Hans_CN)."""
    return Locale.parse(BABEL_LOCALES.get(language, BABEL_LOCALES[FALLBACK]))


def plural_category(language: str, count: int | float) -> str:
    """The CLDR plural category of `count` in `language`: "one" or "other" in English, "other" in Chinese."""
    return babel_locale(language).plural_form(abs(count))


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


def _count(values: dict[str, object]) -> int | float | None:
    for name in COUNTS:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def _template(language: str, key: str, values: dict[str, object]) -> str | None:
    messages = catalogue(language)
    if key in messages:
        return messages[key]
    count = _count(values)
    if count is None:
        return messages.get(f"{key}_other")
    return messages.get(f"{key}_{plural_category(language, count)}") or messages.get(f"{key}_other")


def _alternative(language: str, forms: object) -> str:
    style = getattr(forms, "style", None)
    prefix = getattr(style, "alternative", None)
    return t(language, "core.alternative", example=f"{prefix}todo") if prefix else ""


def t(language: str, key: str, /, **values: object) -> str:
    """The message `key` (e.g. `core.help`) in `language`, formatted with `values` (see the module doc)."""
    template = _template(language, key, values)
    if template is None:
        template = _template(FALLBACK, key, values)
        language = FALLBACK
    if template is None:
        raise KeyError(f"no message {key!r}")
    values.setdefault("cmd", SLASH_FORMS)
    if "{alternative}" in template:
        values.setdefault("alternative", _alternative(language, values["cmd"]))
    return template.format(**values)
