"""Who a Slack user is: name, time zone and locale from `users.info`, asked once per user per run."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.chat import Sender

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    timezone: str | None = None  # an IANA zone (`tz`), only if this machine knows it
    locale: str | None = None  # `locale` (asked with include_locale), e.g. "zh-HK"


def known_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def profile_of(user_id: str, info: dict) -> Profile:
    profile = info.get("profile") or {}
    name = profile.get("display_name") or info.get("real_name") or profile.get("real_name") or info.get("name")
    return Profile(name or user_id, known_zone(info.get("tz")), info.get("locale") or None)


class People:
    """A per-run cache of `users.info` answers; concurrent events of one user share one request."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._profiles: dict[str, asyncio.Future[Profile]] = {}

    async def profile(self, user_id: str) -> Profile:
        if user_id not in self._profiles:
            self._profiles[user_id] = asyncio.ensure_future(self._ask(user_id))
        try:
            return await asyncio.shield(self._profiles[user_id])
        except (aiohttp.ClientError, TimeoutError):  # not answered: ask again next time
            self._profiles.pop(user_id, None)
            log.warning("users.info for %s was not answered", user_id, exc_info=True)
            return Profile(user_id)

    async def _ask(self, user_id: str) -> Profile:
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError:  # a refusal will not change within this run
            log.warning("users.info refused for %s", user_id, exc_info=True)
            return Profile(user_id)
        return profile_of(user_id, response.get("user") or {})

    async def name(self, user_id: str) -> str:
        return (await self.profile(user_id)).name

    async def sender(self, user_id: str, team_id: str | None) -> Sender:
        profile = await self.profile(user_id)
        return Sender(user_id, profile.name, language_code=profile.locale, workspace_id=team_id,
                      timezone=profile.timezone)
