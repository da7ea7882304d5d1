"""`Reply` → Block Kit: the reply markup (small HTML subset) as mrkdwn, buttons as an actions block."""

from __future__ import annotations

import re

from core.chat import Reply

_LINK = re.compile(r'<a href="([^"]+)">(.*?)</a>', re.S)
SECTION_LIMIT = 2900


def mrkdwn(markup: str) -> str:
    """`<b>` → `*`, `<i>` → `_`, `<code>` → backticks, links → `<url|text>`; `&amp; &lt; &gt;` stay escaped."""
    text = _LINK.sub(lambda m: f"<{m.group(1)}|{m.group(2)}>", markup)
    for tag, mark in (("b", "*"), ("i", "_"), ("code", "`")):
        text = text.replace(f"<{tag}>", mark).replace(f"</{tag}>", mark)
    return text.replace("&quot;", '"').replace("&#x27;", "'").replace("&#39;", "'")


def plain(markup: str) -> str:
    import html

    return html.unescape(re.sub(r"</?(b|i|code|a)(\s[^>]*)?>", "", markup))


def blocks(reply: Reply) -> list[dict]:
    text = mrkdwn(reply.text)
    chunks = [text[i:i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    result: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]
    for row_index, row in enumerate(reply.buttons):
        result.append({"type": "actions", "block_id": f"row{row_index}", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
             "value": button.payload, "action_id": f"crm:{row_index}:{index}"}
            for index, button in enumerate(row[:25])]})
    return result


def home_view(reply: Reply) -> dict:
    return {"type": "home", "blocks": blocks(reply)[:100]}
