"""Phone numbers as stored: E.164 when the number parses, else as given."""

from __future__ import annotations

import phonenumbers

DEFAULT_COUNTRY = "TW"


def normalize_phone(raw: str | None, country: str = DEFAULT_COUNTRY) -> str | None:
    """E.164 when the number parses (`0912 345 678` in TW → +886912345678), else the digits as given.

    `country` (ISO 3166 alpha-2) reads numbers written without a country code."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, None if raw.strip().startswith("+") else (country or DEFAULT_COUNTRY))
    except phonenumbers.NumberParseException:
        return raw.strip()
    if not phonenumbers.is_possible_number(number):
        return raw.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
