"""A small, tolerant vCard (2.1, 3.0, 4.0) reader for the `vcard` of a contact shared on Telegram.

Only what a customer contact needs: ORG (the company, its first component), TITLE, EMAIL and every TEL.
Tolerates folded lines, group prefixes (`item1.EMAIL`), parameters in any case, backslash escapes and the
QUOTED-PRINTABLE UTF-8 values older Android phones write (`ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=8F=B0…`).
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass

_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}


@dataclass(frozen=True, slots=True)
class VCardFields:
    company: str | None = None
    title: str | None = None
    email: str | None = None
    phones: tuple[str, ...] = ()


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in re.split(r"\r\n|\r|\n", text):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + raw  # a quoted-printable soft line break
        else:
            lines.append(raw)
    return lines


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)


def _components(value: str) -> list[str]:
    """A structured value split at unescaped `;`."""
    return [_unescape(part).strip() for part in re.split(r"(?<!\\);", value)]


def parse_vcard(text: str | None) -> VCardFields:
    """The fields a contact card needs; empty fields for anything unreadable (never raises)."""
    if not text:
        return VCardFields()
    company = title = email = None
    phones: list[str] = []
    for line in _unfold(text):
        name_part, colon, value = line.partition(":")
        if not colon:
            continue
        name, *params = name_part.split(";")
        name = name.rsplit(".", 1)[-1].strip().upper()  # item1.EMAIL → EMAIL
        upper_params = [p.upper() for p in params]
        if any("QUOTED-PRINTABLE" in p for p in upper_params):
            charset = next((p.split("=", 1)[1] for p in params if p.upper().startswith("CHARSET=")), "utf-8")
            try:
                value = quopri.decodestring(value.encode("ascii", "replace")).decode(charset, "replace")
            except LookupError:
                value = quopri.decodestring(value.encode("ascii", "replace")).decode("utf-8", "replace")
        value = value.strip()
        if not value:
            continue
        if name == "ORG" and company is None:
            company = next((part for part in _components(value) if part), None)
        elif name == "TITLE" and title is None:
            title = _unescape(value).strip() or None
        elif name == "EMAIL" and email is None:
            email = _unescape(value).strip() or None
        elif name == "TEL":
            number = _unescape(value).removeprefix("tel:").strip()
            if number and number not in phones:
                phones.append(number)
    return VCardFields(company, title, email, tuple(phones))
