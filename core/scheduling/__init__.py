"""Follow-up nudges delivered once at the right local time; APScheduler is only the clock."""

from core.scheduling.dispatch import Claimed, Dispatcher, NudgeSender
from core.scheduling.service import FollowUpScheduler, NoticeSender, PeriodicJob
from core.scheduling.workhours import next_working_start, within_working_time

__all__ = ["Claimed", "Dispatcher", "FollowUpScheduler", "NoticeSender", "NudgeSender", "PeriodicJob",
           "next_working_start",
           "within_working_time"]
