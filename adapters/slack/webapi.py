"""Web API calls with their outcome in core.ports terms, and file downloads with the bot token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import PLATFORM
from core.chat import Attachment
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable

GONE = {"channel_not_found", "is_archived", "account_inactive", "not_in_channel", "user_not_found",
        "cannot_dm_bot", "invalid_auth", "token_revoked", "user_not_in_channel"}


async def call(method: Callable, **kwargs: Any) -> Any:
    """`method(**kwargs)` (None values left out); a refusal raises RateLimited, Unreachable or DeliveryError,
    no answer DeliveryUncertain."""
    try:
        return await method(**{k: v for k, v in kwargs.items() if v is not None})
    except SlackApiError as error:
        data = error.response.data  # a 5xx answers with a page, not JSON
        code = str(data.get("error", "")) if isinstance(data, dict) else ""
        if error.response.status_code == 429:
            raise RateLimited(float(error.response.headers.get("Retry-After", 1)), code) from error
        if code in GONE:
            raise Unreachable(code) from error
        raise DeliveryError(code or f"HTTP {error.response.status_code}") from error
    except (aiohttp.ClientConnectorError, aiohttp.ClientConnectionResetError) as error:
        raise DeliveryError(str(error)) from error  # the request never reached Slack
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DeliveryUncertain(str(error) or error.__class__.__name__) from error  # Slack may have posted it


async def download(client: AsyncWebClient, token: str, attachment: Attachment) -> bytes:
    if not attachment.url:
        info = (await call(client.files_info, file=attachment.file_id)).get("file") or {}
        attachment = Attachment(PLATFORM, attachment.file_id, info.get("name"), info.get("mimetype"),
                                info.get("size"), url=info.get("url_private_download"))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession() as session, session.get(attachment.url, headers=headers) as response:
            data = await response.read()
            kind = response.headers.get("Content-Type", "")
    except aiohttp.ClientError as error:
        raise DeliveryError(f"download failed: {error}") from error
    if response.status != 200:
        raise DeliveryError(f"download failed with HTTP {response.status}")
    if "text/html" in kind or data[:200].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise DeliveryError("Slack answered with a login page instead of the file (check the bot token and "
                            "the files:read scope)")
    return data
