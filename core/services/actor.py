"""Who is acting: the member behind a request, with what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import col

from core.models import Customer, Member, Role


@dataclass(frozen=True, slots=True)
class Actor:
    member_id: int
    team_id: int
    role: str
    timezone: str
    language: str
    name: str = ""
    country: str = ""

    @classmethod
    def of(cls, member: Member) -> Actor:
        assert member.id is not None
        return cls(member.id, member.team_id, member.role, member.timezone, member.language, member.name,
                   member.country)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sees_whole_team(self) -> bool:
        return self.role in (Role.owner.value, Role.manager.value)

    def customer_filter(self) -> ColumnElement[bool]:
        """Customers this actor may see: their team's own or shared ones, or all of the team for managers."""
        same_team = col(Customer.team_id) == self.team_id
        if self.sees_whole_team:
            return same_team & true()
        return same_team & or_(col(Customer.owner_id) == self.member_id, col(Customer.shared).is_(True))

    def can_see(self, customer: Customer) -> bool:
        if customer.team_id != self.team_id:
            return False
        return self.sees_whole_team or customer.shared or customer.owner_id == self.member_id
