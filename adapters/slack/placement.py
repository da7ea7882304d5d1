"""Where the answers to a `/crm` command typed outside the member's DM go.

Short answers are ephemeral in the channel where the command was typed (only the member sees them). Long
ones — more than a few lines, anything with buttons, a file or an image, or marked `private` —
go to the member's DM, and a short ephemeral pointer says so: ephemeral messages vanish on reload,
cannot be edited by their buttons, and a card, a list or a search result is not for a shared channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from adapters.slack.blocks import plain
from core.chat import Reply

MAX_EPHEMERAL_LINES = 3
MAX_EPHEMERAL_CHARS = 400


@dataclass(frozen=True, slots=True)
class TypedIn:
    """A command typed in a channel that is not the member's DM with the bot."""

    channel: str
    user: str
    team: str | None
    dm: str | None  # the member's DM with the bot (None: it could not be opened)


def fits_ephemeral(reply: Reply) -> bool:
    text = plain(reply.text).strip()
    return (not reply.buttons and reply.image is None and reply.file is None and not reply.private
            and not reply.extra.get("private")
            and len(text.splitlines()) <= MAX_EPHEMERAL_LINES and len(text) <= MAX_EPHEMERAL_CHARS)


def all_ephemeral(replies: Sequence[Reply]) -> bool:
    """One answer is one place: every reply ephemeral, or every reply in the DM (their order kept)."""
    return all(fits_ephemeral(reply) for reply in replies)


def dm_link(team: str | None, channel: str) -> str:
    """A link that opens the DM in the Slack client."""
    query = {"channel": channel, **({"team": team} if team else {})}
    return f"https://slack.com/app_redirect?{urlencode(query)}"
