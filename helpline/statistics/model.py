"""The statistics' typed results: what each query fills in, before rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

OUTCOMES = (
    "answered",
    "answered_by_partner",
    "voicemail",
    "callback_requested",
    "missed",
    "abandoned",
)
ANSWERED = ("answered", "answered_by_partner")
# Calls that were not answered live: if an adviser was rung first, the caller waited in vain.
WAITED_UNANSWERED = ("voicemail", "callback_requested", "missed")
CALLBACK_STATUSES = ("completed", "unreachable", "cancelled")
OPEN = ("open", "assigned")


@dataclass
class OfficeCalls:
    """The calls to one county's number, by the outcome `calls list` gives them."""

    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    in_progress: int = 0
    answered_within_t: int = 0  # the service level's numerator
    service_level_calls: int = 0  # its denominator
    wait_of_answered_s: float = 0.0

    @property
    def received(self) -> int:
        """Every call that arrived: the outcomes and those still in progress."""
        return sum(self.outcomes.values()) + self.in_progress

    @property
    def answered(self) -> int:
        """Calls answered live, by either county's team."""
        return sum(self.outcomes.get(o, 0) for o in ANSWERED)


@dataclass
class OfficeCallbacks:
    """Callbacks created in the range for one county, by their status now."""

    statuses: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((*CALLBACK_STATUSES, "open"), 0)
    )
    first_attempt_within_promise: int = 0
    oldest_open_created_at: datetime | None = None  # of all open now, whenever created

    @property
    def created(self) -> int:
        """All callbacks created in the range."""
        return sum(self.statuses.values())


@dataclass
class Work:
    """What one adviser, or one team, did in the range."""

    calls_answered: int = 0
    calls_answered_for_partner: int = 0
    callbacks_completed: int = 0
    callbacks_completed_for_partner: int = 0
    talk_seconds: float = 0.0

    def add(self, other: Work) -> None:
        """Add another's work to this one."""
        self.calls_answered += other.calls_answered
        self.calls_answered_for_partner += other.calls_answered_for_partner
        self.callbacks_completed += other.callbacks_completed
        self.callbacks_completed_for_partner += other.callbacks_completed_for_partner
        self.talk_seconds += other.talk_seconds


@dataclass(frozen=True)
class HourOfWeek:
    """Calls to one county in one local hour of the week (Monday = 0), over the whole range."""

    office: str
    weekday: int
    hour: int
    received: int
    answered: int


@dataclass(frozen=True)
class TeamHour:
    """One team's answered calls and their talk in one local hour of the week (Monday = 0),
    over the whole range, by the hour the call came in."""

    team: str
    weekday: int
    hour: int
    calls_answered: int
    talk_seconds: float


@dataclass
class Figures:
    """Everything `helpline stats` reports for a range of local dates."""

    first: date
    last: date
    offices: dict[str, OfficeCalls]
    callbacks: dict[str, OfficeCallbacks]
    teams: dict[str, Work]
    advisers: dict[tuple[str, str], Work]  # (name, team)
    hour_of_week: list[HourOfWeek]
    team_hours: list[TeamHour] = field(default_factory=list)
    answer_within_s: int = 20  # T
    short_abandon_s: int = 5
