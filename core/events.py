"""What a use case tells the rest of the app, delivered after its unit of work committed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.chat import ChatRef


@dataclass(frozen=True, slots=True)
class FollowUpsChanged:
    """A follow-up was created or moved: the dispatcher should look at its due times again."""


@dataclass(frozen=True, slots=True)
class ForwardBurstGrew:
    """A forwarded message joined the burst `interaction_id` in `chat`: its summary waits for the burst's end."""

    chat: ChatRef
    member_id: int
    interaction_id: int


@dataclass(frozen=True, slots=True)
class SpooledFileDone:
    """A parked export was imported (or could not be): its spooled copy at `path` may go now that it is stored.

    Delivered with `core.usecases.chat_import_spool.discard(event)`; before the commit the file is still the
    only copy."""

    path: Path


@dataclass(frozen=True, slots=True)
class Tell:
    """Tell member `member_id`, in their own private chat and language, the catalogue message `key` with `values`
    (plain text; escaped when rendered), once the work that decided it committed. For news a member did not ask
    for: a handover's summary, a removal, a customer returned to the pool. Delivered by `bot.member_messages`."""

    member_id: int
    key: str
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, member_id: int, key: str, **values: object) -> Tell:
        return cls(member_id, key, tuple((name, str(value)) for name, value in values.items()))


Event = FollowUpsChanged | ForwardBurstGrew | SpooledFileDone | Tell
