"""The deal a note proposes, as buttons on its confirmation card (`bot.note_cards` adds them), and amounts
drawn with Babel. Payloads: `dp:ok:<note>[:<deal>[:<stage>]]` (deal 0: a new one), `dp:pk:<note>` (which deal),
`dp:st:<note>` (another stage), `dp:no:<note>` (not a deal)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from bot.context import Ctx
from bot.i18n import babel_locale
from core.chat import Button
from core.usecases import deal_proposals
from core.usecases.notes import NoteView

LABEL_TITLE = 16


def money_text(amount: Decimal, currency: str, language: str) -> str:
    """NT$150,000 / US$12,000.50 / ¥8,000 in the member's locale; a round sum without cents."""
    locale = babel_locale(language)
    if amount == amount.to_integral_value():
        pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
        return format_currency(amount, currency, pattern, locale=locale, currency_digits=False)
    return format_currency(amount, currency, locale=locale)


def short(title: str) -> str:
    return title if len(title) <= LABEL_TITLE else title[:LABEL_TITLE - 1] + "…"


def proposal_rows(ctx: Ctx, note: NoteView) -> list[tuple[Button, ...]]:
    """`📈 方案報價 · NT$150,000 ✅` / change stage / not a deal; for a customer with several deals, which one."""
    if note.customer is None or note.deleted or note.owner is not None or ctx.member is None or \
            not deal_proposals.may_propose(note.text, note.amounts):  # no query for an ordinary note
        return []
    proposal = deal_proposals.propose(ctx.uow, ctx.actor, note.id)
    if proposal is None:
        return []
    amount = (" · " + money_text(proposal.amount, proposal.currency, ctx.language)
              if proposal.amount is not None and proposal.currency else "")
    iid = proposal.interaction_id
    if proposal.kind == "pick":
        first = Button(ctx.t("deals.proposal_pick", stage=proposal.stage.name, amount=amount), f"dp:pk:{iid}")
    elif proposal.deal is not None:
        first = Button(ctx.t("deals.proposal_move", deal=short(proposal.deal.title), stage=proposal.stage.name,
                             amount=amount), f"dp:ok:{iid}")
    else:
        first = Button(ctx.t("deals.proposal_new", stage=proposal.stage.name, amount=amount), f"dp:ok:{iid}")
    return [(first,), (Button(ctx.t("deals.btn_change_stage"), f"dp:st:{iid}"),
                       Button(ctx.t("deals.btn_not_deal"), f"dp:no:{iid}"))]
