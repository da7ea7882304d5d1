"""The three message catalogues carry the same messages, placeholders and commands; counts pick plural forms."""

from __future__ import annotations

import re
import string

import pytest

from bot.commands import TABLE, CommandForms
from bot.i18n import LANGUAGES, PLURAL_CATEGORIES, babel_locale, catalogue, normalize_language, t
from core.chat import SLASH_COMMANDS, CommandStyle

SLACK = CommandStyle(prefix="", bare_words=True, alternative="/crm ")
NAMES = {command.name for command in TABLE}
# A command written by hand (`/todo`, `/start CODE`) rather than as `{cmd[todo]}`; paths such as
# `Asia/Hong_Kong`, `.txt/.zip` or `日/月` are not commands (the slash follows a letter or a dot; `</b>` closes a tag).
LITERAL_COMMAND = re.compile(r"(?<![\w.<])/\w+")
# An English count placeholder followed by a noun that has a plural ("{n} interactions", "{days} days").
COUNTED_NOUN = re.compile(r"{(n|days|minutes|limit)} (?!MB\b|more\b)[a-z]")


def fields(text: str) -> set[str]:
    """Placeholders of a template: `n`, `cmd[todo]`…"""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def messages(language: str) -> dict[str, list[str]]:
    """Message id → its templates: one, or one per plural category (`count_one`, `count_other` → `count`)."""
    grouped: dict[str, list[str]] = {}
    texts = catalogue(language)
    for key in texts:
        base, _, category = key.rpartition("_")
        if category in PLURAL_CATEGORIES and f"{base}_other" in texts:
            grouped.setdefault(base, []).append(key)
        else:
            grouped.setdefault(key, []).append(key)
    return grouped


def test_every_message_exists_in_every_language_with_the_same_placeholders_and_commands():
    english = messages("en")
    assert len(english) > 50
    for language in LANGUAGES:
        ours, texts = messages(language), catalogue(language)
        assert set(ours) == set(english), f"{language}: {set(ours) ^ set(english)}"
        for message, keys in ours.items():
            expected = {name for key in english[message] for name in fields(catalogue("en")[key])}
            for key in keys:
                assert fields(texts[key]) == expected, (language, key)


def test_plural_messages_have_exactly_the_categories_of_their_language():
    for language in LANGUAGES:
        categories = set(babel_locale(language).plural_form.tags) | {"other"}
        for message, keys in messages(language).items():
            if len(categories) == 1:
                assert keys == [message], (language, keys)  # Chinese: one form, no suffix
            elif keys != [message]:
                assert {key.rpartition("_")[2] for key in keys} == categories, (language, message)


def test_every_english_count_of_a_noun_has_plural_forms():
    for message, keys in messages("en").items():
        if keys == [message]:
            assert not COUNTED_NOUN.search(catalogue("en")[message]), message


def test_every_command_is_written_as_a_placeholder_naming_a_real_command():
    for language in LANGUAGES:
        for key, text in catalogue(language).items():
            assert not LITERAL_COMMAND.findall(text), (language, key, LITERAL_COMMAND.findall(text))
            for name in fields(text):
                if name.startswith("cmd"):
                    assert re.fullmatch(r"cmd\[(\w+)\]", name) and name[4:-1] in NAMES, (language, key, name)


def test_every_message_formats_on_every_platform():
    for language in LANGUAGES:
        for key, text in catalogue(language).items():
            values = {name: 1 for name in fields(text) if not name.startswith("cmd")}
            for style in (SLASH_COMMANDS, SLACK):
                assert t(language, key.removesuffix("_one").removesuffix("_other"), cmd=CommandForms(style),
                         **values)


def test_help_shows_each_platforms_command_forms():
    for language in LANGUAGES:
        slash = t(language, "onboarding.help")
        slack = t(language, "onboarding.help", cmd=CommandForms(SLACK))
        assert "/todo" in slash and "/digest 07:45" in slash and "/crm" not in slash
        assert "\ntodo" in slack and " digest 07:45" in slack and "/todo" not in slack
        assert slack.count("/crm todo") == 1  # Slack's other way to write a command, mentioned once
    assert t("en", "core.not_member").endswith("send /start CODE.")
    assert t("en", "core.not_member", cmd=CommandForms(SLACK)).endswith("send start CODE.")
    assert t("zh-Hant", "nudges.digest_hint", cmd=CommandForms(SLACK)) == "傳 todo 可以標記完成或延後。"


@pytest.mark.parametrize(("language", "n", "expected"), [
    ("en", 1, "1 interaction"), ("en", 2, "2 interactions"), ("en", 0, "0 interactions"),
    ("zh-Hant", 1, "共 1 筆往來紀錄"), ("zh-Hant", 2, "共 2 筆往來紀錄"), ("zh-Hans", 1, "共 1 条往来记录"),
])
def test_a_count_picks_the_plural_form_of_the_language(language, n, expected):
    assert t(language, "customers.count", n=n) == expected


def test_a_count_under_another_name_picks_the_plural_form_too():
    assert "quiet for 1 day." in t("en", "nudges.silent", customer="Acme", days=1)
    assert "quiet for 14 days." in t("en", "nudges.silent", customer="Acme", days=14)
    assert "longer than 1 minute." in t("en", "voice.too_long", minutes=1)


def test_chinese_catalogues_are_written_in_their_own_script():
    from core.text import to_simplified, to_traditional

    for key, text in catalogue("zh-Hans").items():
        assert to_simplified(text) == text, key
    changed = [key for key, text in catalogue("zh-Hant").items() if to_traditional(text) != text]
    assert len(changed) < len(catalogue("zh-Hant")) // 10, changed


@pytest.mark.parametrize(("code", "expected"), [
    ("zh-TW", "zh-Hant"), ("zh-hk", "zh-Hant"), ("zh-CN", "zh-Hans"), ("zh-hans", "zh-Hans"),
    ("en-US", "en"), (None, "zh-Hant"), ("fr", "zh-Hant"),
])
def test_platform_language_codes_map_to_ours(code, expected):
    assert normalize_language(code, "zh-Hant") == expected


def test_missing_key_is_an_error_not_a_silent_blank():
    with pytest.raises(KeyError):
        t("en", "no.such.key")
