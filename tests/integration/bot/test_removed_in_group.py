"""A removed member who writes in a group (a note, a command, a button on an old group card): refused in their own
private chat, nothing stored, and nothing of the team — not even its name — said in the group."""

from __future__ import annotations

import itertools

from sqlalchemy import func
from sqlmodel import select

from core.chat import ButtonIn, ChatRef, CommandIn, Envelope, Reply, Sender, TextIn
from core.db import session_scope
from core.models import FollowUp, Interaction
from tests.conversation import Chat

GROUP = ChatRef("test", "group-sales")
REFUSAL = "You are no longer a member of Amy Lin's team. Ask its owner for an invite if you should be back."
_ids = itertools.count(1)

def in_group(chat: Chat) -> Envelope:
    sender = Sender(chat.user_id, chat.name, language_code=chat.language)
    return Envelope(GROUP, sender, f"g{next(_ids)}", chat.app.clock.now(), is_group=True)


def counts(app) -> tuple[int, int]:
    with session_scope(app.engine) as session:
        return (session.exec(select(func.count()).select_from(Interaction)).one(),
                session.exec(select(func.count()).select_from(FollowUp)).one())


def in_the_group(replies: list[Reply]) -> list[str]:
    """What a reply would show in the group: everything not marked for the sender's private chat, toasts aside."""
    return [reply.text for reply in replies if not reply.private and reply.text]


async def removed(owner: Chat, bob: Chat) -> None:
    await owner.say("/team")
    await owner.press("🗑 Bob Wu")
    await owner.press("Yes, remove Bob Wu")
    assert owner.text.startswith("✅ Bob Wu was removed from the team.")


async def test_a_removed_member_writing_in_a_group_is_refused_privately_and_nothing_is_stored(app, owner, bob):
    await bob.say("Visited Acme, Mr. Lee wants a quote, follow up Friday")
    await removed(owner, bob)
    before = counts(app)
    for incoming in (TextIn(in_group(bob), "@chatcrm_bot Acme called again, follow up Monday"),
                     CommandIn(in_group(bob), "todo", ""), CommandIn(in_group(bob), "c", "Acme"),
                     CommandIn(in_group(bob), "team", "")):
        replies = await app.handle(incoming)
        assert [reply.text for reply in replies if reply.private] == [REFUSAL], incoming
        shown = in_the_group(replies)
        assert not [text for text in shown if "Amy Lin" in text or "Acme" in text or "team" in text], shown
    assert counts(app) == before


async def test_a_removed_member_pressing_an_old_group_button_gets_a_toast_only(app, owner, bob):
    await bob.say("Visited Acme, Mr. Lee wants a quote, follow up Friday")
    await removed(owner, bob)
    before = counts(app)
    replies = await app.handle(ButtonIn(in_group(bob), "fu:done:1", callback_id="cb-old", addressee=bob.user_id))
    assert in_the_group(replies) == [] and all(REFUSAL in (reply.notice or "") or reply.private
                                               for reply in replies), replies
    assert counts(app) == before
