"""Working time for the callback promise: when the clock starts, deadlines, and open time.

Pure: every function takes the instants it reasons about; instants are UTC-aware datetimes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rota.calendar import SEARCH_DAYS, OfficeCalendar, local_instant


def clock_start(cal: OfficeCalendar, at: datetime) -> datetime:
    """When the promise clock starts: `at` if the office is open then, else its next opening."""
    _require_aware(at)
    opening = cal.next_opening(at)
    if opening is None:
        raise ValueError(f"office does not open within {SEARCH_DAYS} days of {at.isoformat()}")
    return opening


def add_working_days(cal: OfficeCalendar, start: datetime, days: int) -> datetime:
    """The same local wall-clock time as `start`, `days` working days of the office later."""
    _require_aware(start)
    if days < 0:
        raise ValueError(f"working days must not be negative, got {days}")
    if days == 0:
        return start
    local = start.astimezone(cal.tz)
    day = local.date()
    counted = 0
    idle = 0
    while counted < days:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            counted += 1
            idle = 0
        else:
            idle += 1
            # An open-ended closure leaves no working day to find; stop rather than loop forever.
            if idle >= SEARCH_DAYS:
                raise ValueError(f"office has no working day in the {SEARCH_DAYS} days to {day}")
    return local_instant(day, local.time(), cal.tz)


def due_at(cal: OfficeCalendar, received_at: datetime, working_days: int) -> datetime:
    """The callback promise: `working_days` working days after the clock starts for a message."""
    return add_working_days(cal, clock_start(cal, received_at), working_days)


def add_working_hours(cal: OfficeCalendar, start: datetime, hours: float) -> datetime:
    """The instant `hours` of open time after `start`, always an instant when the office is open."""
    _require_aware(start)
    if hours < 0:
        raise ValueError(f"working hours must not be negative, got {hours}")
    remaining = timedelta(hours=hours)
    for open_from, open_until in cal.intervals_from(start):
        # Strictly less, so a count ending exactly at closing moves on to the next opening,
        # where a retry can actually be made; no open time lies between the two.
        if remaining < open_until - open_from:
            return open_from + remaining
        remaining -= open_until - open_from
    raise ValueError(f"office is not open for {hours} hours within {SEARCH_DAYS} days of {start}")


def working_seconds_between(cal: OfficeCalendar, start: datetime, end: datetime) -> float:
    """Seconds of the office's open time between `start` and `end` (0 if `end` <= `start`)."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return 0.0
    total = timedelta()
    # Walk dates rather than cal.intervals_from, whose one-year horizon would silently undercount.
    day = start.astimezone(cal.tz).date() - timedelta(days=1)
    last = end.astimezone(cal.tz).date()
    while day <= last:
        for open_from, open_until in cal.open_intervals(day):
            overlap = min(open_until, end) - max(open_from, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds()


def _require_aware(at: datetime) -> None:
    # A naive datetime would be read as the server's local time and give a wrong answer quietly.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {at.isoformat()}")
