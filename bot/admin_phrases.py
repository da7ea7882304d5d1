"""Admin requests typed as sentences ("刪除「電子」這個客戶", "delete customer Acme") lead to the flow their button
leads to, with its confirmation, instead of becoming notes (`core.understanding.admin_phrases` tells them apart).

Called by `bot.handlers.notes.text_note` before a text is logged; None means "a note after all".
"""

from __future__ import annotations

from bot.context import Ctx
from bot.handlers import customer_admin
from bot.note_cards import distinct_labels
from bot.render import esc
from core.chat import Button, Reply, TextIn
from core.understanding.admin_phrases import delete_customer as delete_request
from core.usecases import customers


def delete_customer(ctx: Ctx) -> list[Reply] | None:
    """ "Delete customer X": its delete confirmation (the customer card's 🗑, same rules); a quoted name we do not
    know is answered as unknown; an unquoted one that names no customer stays a note."""
    assert isinstance(ctx.incoming, TextIn)
    request = delete_request(ctx.incoming.text)
    if request is None:
        return None
    match = customers.find_customer(ctx.uow, ctx.actor, request.name)
    if match.customer is not None:
        replies = customer_admin.admin_button(ctx, ["dl", str(match.customer.id)])  # as its 🗑 button would
        assert isinstance(replies, list)
        return replies
    if match.candidates:
        shown = list(match.candidates[:8])
        rows = tuple((Button(label, f"c:open:{c.id}"),) for c, label in zip(shown, distinct_labels(shown),
                                                                               strict=True))
        return [Reply(ctx.t("customers.which", name=esc(request.name)), buttons=rows)]
    if match.colleagues is not None:  # a colleague's customer: deleting is for owners and managers anyway
        return [Reply(ctx.t("customer_admin.delete_not_allowed"))]
    if request.quoted:
        return [Reply(ctx.t("customers.unknown", name=esc(request.name)))]
    return None
