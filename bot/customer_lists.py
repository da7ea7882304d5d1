"""A customer list sent as a document: imported in the update's unit of work, answered with what happened
(the same counts as `chatcrm import-customers --json`), or with what was expected when it cannot be read."""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.context import Ctx
from bot.i18n import babel_locale
from bot.render import esc
from core.chat import Reply
from core.usecases import customer_lists
from core.usecases.customer_lists import MAX_ROWS, CustomerListImported, NotACustomerList

SHOWN = 5  # new names and skipped rows listed in the reply


def list_replies(ctx: Ctx, data: bytes, file_name: str | None) -> list[Reply] | None:
    """The replies to a customer list, or None when the file is not meant as one (a chat export, a PDF…)."""
    if not customer_lists.is_customer_list(data, file_name):
        return None
    try:
        result = customer_lists.import_customer_list(ctx.uow, ctx.actor, data, file_name, now=ctx.now,
                                                     list_customers=False)
    except NotACustomerList as error:
        return [Reply(ctx.t(f"lists.{error.reason}", limit=format_decimal(MAX_ROWS, locale=babel_locale(ctx.language))))]
    return [Reply(summary(ctx, result))]


def summary(ctx: Ctx, result: CustomerListImported) -> str:
    """`📇 Customer list imported: 3 new customers, 1 updated, 1 duplicate row merged, 1 row skipped.` (merged and
    skipped only when there are any), the first new names and skipped rows."""
    if result.created + result.updated == 0:
        lines = [ctx.t("lists.nothing")]
    else:
        counts = [("created", result.created), ("updated", result.updated)]
        counts += [(part, n) for part, n in (("merged", result.merged_duplicates), ("skipped", result.skipped)) if n]
        parts = ctx.t("lists.separator").join(ctx.t(f"lists.part_{part}", n=n) for part, n in counts)
        lines = [ctx.t("lists.imported", parts=parts)]
    if result.names:
        shown = ", ".join(result.names[:SHOWN])
        more = len(result.names) - SHOWN
        lines.append(ctx.t("lists.new_names", names=esc(shown)) + (ctx.t("lists.more", n=more) if more > 0 else ""))
    for row in result.skipped_rows[:SHOWN]:
        lines.append(ctx.t(f"lists.skipped_{row.code}", row=row.row))
    if result.skipped > SHOWN:
        lines.append(ctx.t("lists.more", n=result.skipped - SHOWN))
    return "\n".join(lines)
