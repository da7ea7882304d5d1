"""A Bolt request that reads slash-command forms containing the word "payload" correctly.

slack-bolt 1.30 treats any form body containing the substring `payload` as an interactivity payload
and, finding no `payload` field, parses it as empty: `/crm log payload capacity 2 tons` would be
answered 404. This request falls back to the form fields when there is no `payload` field.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest


class FormSafeRequest(AsyncBoltRequest):
    def __init__(self, *, body: str, query=None, headers=None, context=None, mode: str = "http") -> None:
        super().__init__(body=body, query=query, headers=headers, context=context, mode=mode)
        if self.body or not body or body.lstrip().startswith("{"):
            return
        fields = dict(parse_qsl(body, keep_blank_values=True))
        if fields and "payload" not in fields:
            self.body = fields
            self.context = build_async_context(AsyncBoltContext(context or {}), fields)
