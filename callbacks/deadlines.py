"""How a callback stands against its promise, in working time and in words. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callbacks.working_time import working_seconds_between
from rota.calendar import OfficeCalendar

NO_DEADLINE = "no deadline: the office has no opening in sight"


@dataclass(frozen=True)
class Deadline:
    """The promise of a first attempt by `due_at`, as it stands at one moment.

    `working_seconds_left` counts the office's open time until `due_at`, negative once it has
    passed; None when there is no deadline, or the first placed attempt has been made (`met`).
    """

    due_at: datetime | None
    working_seconds_left: float | None
    overdue: bool
    met: bool
    text: str


def deadline(
    calendar: OfficeCalendar | None,
    due_at: datetime | None,
    first_attempt_at: datetime | None,
    now: datetime,
    *,
    still_open: bool = True,
) -> Deadline:
    """Where the promise stands at `now`, kept by the first attempt the helpline placed
    (`first_attempt_at`); `calendar` None (an office no longer configured) counts plain time."""
    if first_attempt_at is not None:
        in_time = due_at is None or first_attempt_at <= due_at
        text = "first attempt made in time" if in_time else "first attempt made after the deadline"
        return Deadline(due_at, None, False, True, text)
    if due_at is None:
        return Deadline(None, None, False, False, NO_DEADLINE if still_open else "closed")
    if not still_open:
        return Deadline(due_at, None, False, False, "closed before any attempt")
    if due_at > now:
        left = _between(calendar, now, due_at)
        return Deadline(due_at, left, False, False, f"{duration_text(left)} of working time left")
    late = _between(calendar, due_at, now)
    text = "overdue" if late < 60 else f"overdue by {duration_text(late)} of working time"
    return Deadline(due_at, -late, True, False, text)


def duration_text(seconds: float) -> str:
    """A length of time in hours and minutes, in words ("3 hours 5 minutes")."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def _between(calendar: OfficeCalendar | None, start: datetime, end: datetime) -> float:
    if calendar is None:
        return max(0.0, (end - start).total_seconds())
    return working_seconds_between(calendar, start, end)
