"""Phone numbers as stored: E.164 when the number parses, else as given.

Every place that saves a contact's or customer's phone goes through here, with the member's country
(`Member.country`, ISO 3166 alpha-2) as the region of numbers written without a country code.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers

DEFAULT_COUNTRY = "TW"


def normalize_phone(raw: str | None, country: str | None = DEFAULT_COUNTRY) -> str | None:
    """E.164 when the number parses (`0912 345 678` in TW → +886912345678), else the text as given.

    `country` (ISO 3166 alpha-2) reads numbers written without a country code; `00`/`+` numbers and
    extensions (dropped) are read as such."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    region = (country or DEFAULT_COUNTRY).upper()
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(raw: Iterable[str | None], country: str | None = DEFAULT_COUNTRY) -> list[str]:
    """Each number normalised, blanks dropped, each number once (in the order given)."""
    found: list[str] = []
    for value in raw:
        number = normalize_phone(value, country)
        if number and number not in found:
            found.append(number)
    return found
