"""Working time for the callback promise: when the clock starts, deadlines, and open time.

Pure: every function takes the instants it reasons about; instants are UTC-aware datetimes.
An office with no opening in sight (closed until further notice, or no hours at all) gives None
where an instant would depend on its opening: no deadline, rather than an error.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rota.calendar import SEARCH_DAYS, OfficeCalendar, local_instant


def clock_start(cal: OfficeCalendar, at: datetime) -> datetime | None:
    """When the promise clock starts: `at` if the office is open then, else its next opening
    (None when it does not open within SEARCH_DAYS)."""
    _require_aware(at)
    return cal.next_opening(at)


def add_working_days(cal: OfficeCalendar, start: datetime, days: int) -> datetime | None:
    """The same local wall-clock time as `start`, `days` working days of the office later
    (None when the office has no working day for SEARCH_DAYS on the way)."""
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
                return None
    return local_instant(day, local.time(), cal.tz)


def due_at(cal: OfficeCalendar, received_at: datetime, working_days: int) -> datetime | None:
    """The callback promise: `working_days` working days after the clock starts for a message
    (None when the office has no opening in sight)."""
    start = clock_start(cal, received_at)
    return None if start is None else add_working_days(cal, start, working_days)


def add_working_hours(cal: OfficeCalendar, start: datetime, hours: float) -> datetime | None:
    """The instant `hours` of open time after `start`, always an instant when the office is open
    (None when the office is not open that long within SEARCH_DAYS)."""
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
    return None


def retry_at(cal: OfficeCalendar | None, after: datetime, hours: float) -> datetime:
    """When a retry is due: `hours` working hours after `after`, or plain hours when the office
    has no opening in sight or no calendar (`cal` None: it is no longer configured), so a
    parent is still called back."""
    working = add_working_hours(cal, after, hours) if cal is not None else None
    return working or after + timedelta(hours=hours)


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
