"""WeChat quote blocks: a reply's copy of the message it quotes, split from the reply's own text.

MemoTrace TXT writes the quote on its own line, `引用:陈小姐: 报价单` (after the reply, or before it); the PC
client and tools that copy from it write a `「陈小姐：报价单」` block and a `- - - - - -` rule. CSV exports of
some tools carry the quote in its own column (`QUOTE_COLUMNS`).
"""

from __future__ import annotations

import re

QUOTE_COLUMNS = ("Quote", "quote", "QuoteContent", "ReferContent", "refer_content", "refer_msg", "引用")
QUOTE_LINE = re.compile(r"^\s*(?:\[引用\]|引用)\s*[:：]\s?(?P<quoted>.*)$")
RULE = re.compile(r"^\s*(?:-\s*){3,}$")
NAMED = re.compile(r"^[^:：\n]{1,40}[:：]")


def split_quote(text: str) -> tuple[str, str | None]:
    """(the message's own text, what it quotes or None)."""
    if "引用" in text:
        split = _quote_line(text)
        if split is not None:
            return split
    if "「" in text and "」" in text:
        split = _bracket_block(text)
        if split is not None:
            return split
    return text, None


def _quote_line(text: str) -> tuple[str, str | None] | None:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        found = QUOTE_LINE.match(line)
        if found is None:
            continue
        if index == 0:  # the quote first, the reply after it
            own, quoted = lines[1:], [found.group("quoted")]
        else:  # the reply first; the quote runs to the end
            own, quoted = lines[:index], [found.group("quoted"), *lines[index + 1:]]
        return _clean(own), "\n".join(quoted).strip() or None
    return None


def _bracket_block(text: str) -> tuple[str, str | None] | None:
    lines = text.split("\n")
    if lines[0].lstrip().startswith("「"):  # the quote leads
        end = next((i for i, line in enumerate(lines) if line.rstrip().endswith("」")), None)
        if end is None:
            return None
        block, own = lines[:end + 1], lines[end + 1:]
    elif lines[-1].rstrip().endswith("」"):  # the quote trails
        start = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].lstrip().startswith("「")), None)
        if start is None or start == 0:
            return None
        block, own = lines[start:], lines[:start]
    else:
        return None
    has_rule = any(RULE.match(line) for line in own)
    quoted = "\n".join(block).strip()[1:-1].strip()
    own_text = _clean(own)
    if not own_text or not quoted or not (has_rule or NAMED.match(quoted)):
        return None  # 「…」 used as quotation marks in the message itself
    return own_text, quoted


def _clean(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not RULE.match(line)).strip("\n")
