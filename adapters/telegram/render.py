"""`Reply` → Telegram message pieces: HTML text split under 4,096 characters, inline keyboards."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.chat import Reply

LIMIT = 4096
_TAG = re.compile(r"<(/?)(b|i|code|a)(\s[^>]*)?>")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
                                 for row in reply.buttons])


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Split at line ends (else spaces) so that no part exceeds `limit`; open tags are closed and reopened."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit - 20:  # one very long line: cut at a space before the limit
            cut = line.rfind(" ", 0, limit - 20)
            cut = cut if cut > 0 else limit - 20
            while "&" in line[max(0, cut - 8):cut] and ";" not in line[line.rfind("&", 0, cut):cut]:
                cut -= 1  # never inside an entity such as &amp;
            parts.append((current + "\n" if current else "") + line[:cut]) if current else parts.append(line[:cut])
            current, line = "", line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit - 20:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return _balance(parts)


def _balance(parts: list[str]) -> list[str]:
    balanced, carried = [], []
    for part in parts:
        text = "".join(f"<{t}>" for t in carried) + part
        stack: list[str] = []
        for closing, name, _ in _TAG.findall(text):
            if closing:
                if stack and stack[-1] == name:
                    stack.pop()
            elif name != "a":
                stack.append(name)
        balanced.append(text + "".join(f"</{t}>" for t in reversed(stack)))
        carried = stack
    return balanced
