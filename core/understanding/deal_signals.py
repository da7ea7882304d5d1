"""Stage words in a note: what it says about a deal (issue 15).

簽約了/成交/签了/signed/won → won; 不做了/輸給…/lost to…/went with a competitor → lost, with the words as the
reason; quote/報價/报价/order/訂單/PO → proposal. A negated word (還沒簽約, not signed yet) says nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEG_ZH = r"(?<!還沒)(?<!还没)(?<!沒有)(?<!没有)(?<!尚未)(?<!未)(?<!沒)(?<!没)(?<!不)"
WON = re.compile(
    rf"{_NEG_ZH}(?:簽約了|签约了|簽約|签约|簽了|签了|成交|簽單|签单|拿下了|下單了|下单了)"
    r"|(?<!not )(?<!n't )(?<!never )\b(?:signed|won the deal|won it|closed the deal|deal closed|closed won|we won)\b",
    re.I)
LOST = re.compile(
    r"(?:不做了|不買了|不买了|不要了|取消合作|輸單|输单|沒談成|没谈成|談不成|谈不成|"
    r"(?:輸給|输给|選了|选了|改用|找了)[^\s,,。.;;!!]{1,20})"
    r"|\b(?:lost (?:it |the deal )?to [^,.;!\n]{1,40}|went with (?:a |another )?[^,.;!\n]{1,40}|"
    r"chose (?:a |another )?(?:competitor|vendor|supplier)[^,.;!\n]{0,30}|deal (?:is )?lost|we lost|"
    r"not going ahead|cancelled the (?:project|order))", re.I)
PROPOSAL = re.compile(
    r"報價|报价|估價|估价|訂單|订单|下訂|下订|合約|合同|方案|採購|采购"
    r"|\b(?:quote|quotation|quoted|proposal|order|purchase order|PO|pricing|contract)\b", re.I)
NOT_A_REASON = re.compile(r"^(?:不做了|不要了|輸單|输单|deal (?:is )?lost|we lost)$", re.I)


@dataclass(frozen=True, slots=True)
class DealSignal:
    outcome: str  # "won" | "lost" | "proposal"
    reason: str | None = None  # lost: the words that say why (輸給大成, lost to Globex)


def deal_signal(text: str) -> DealSignal | None:
    """The strongest stage word of a note (lost, then won, then proposal), or None."""
    if lost := LOST.search(text):
        words = lost.group(0).strip()
        return DealSignal("lost", None if NOT_A_REASON.match(words) else words)
    if WON.search(text):
        return DealSignal("won")
    if PROPOSAL.search(text):
        return DealSignal("proposal")
    return None
