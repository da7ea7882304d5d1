"""Understanding a salesperson's note (zh-Hant, zh-Hans, en): customer, contact, kind, amounts, when."""

from core.understanding.amounts import Amount
from core.understanding.names import CandidateCustomer, CustomerIndex, KnownCustomer
from core.understanding.parser import FollowUpDraft, NoteDraft, parse_note, parse_when

__all__ = ["Amount", "CandidateCustomer", "CustomerIndex", "FollowUpDraft", "KnownCustomer", "NoteDraft",
           "parse_note", "parse_when"]
