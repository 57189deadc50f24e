"""When an office is open: weekly hours in local time, bank holidays and ad-hoc closures.

Pure: every function takes the instant it reasons about; instants are UTC-aware datetimes.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

TimeRange = tuple[time, time]
Interval = tuple[datetime, datetime]
SEARCH_DAYS = 400  # how far ahead to look for an opening before giving up


@cache
def bank_holidays(kind: str) -> Container[date]:
    """England's bank holidays (observed days and one-off days included), or none."""
    if kind == "none":
        return frozenset()
    england: Container[date] = holidays.country_holidays("GB", subdiv="ENG")
    return england


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (a time lost to the spring change moves on)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class OfficeCalendar:
    """An office's opening: weekly hours, bank holidays, and closures (end None: until reopened)."""

    hours: Mapping[int, Sequence[TimeRange]]
    tz: ZoneInfo
    holidays: Container[date]
    closures: Sequence[tuple[datetime, datetime | None]] = ()

    def scheduled(self, day: date) -> list[Interval]:
        """The day's opening hours as UTC intervals, bank holidays removed, closures not."""
        if day in self.holidays:
            return []
        return [
            (local_instant(day, start, self.tz), local_instant(day, end, self.tz))
            for start, end in self.hours.get(day.weekday(), ())
        ]

    def open_intervals(self, day: date) -> list[Interval]:
        """The day's opening hours as UTC intervals, with closures cut out."""
        result: list[Interval] = []
        for start, end in self.scheduled(day):
            result.extend(_subtract(start, end, self.closures))
        return result

    def is_open(self, at: datetime) -> bool:
        """Whether the office is open at instant `at`."""
        day = at.astimezone(self.tz).date()
        return any(start <= at < end for start, end in self.open_intervals(day))

    def is_working_day(self, day: date) -> bool:
        """Whether the office opens at all on local date `day`."""
        return bool(self.open_intervals(day))

    def intervals_from(self, at: datetime) -> Iterator[Interval]:
        """Open intervals from `at` onwards, in order, clipped to start no earlier than `at`."""
        day = at.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(SEARCH_DAYS):
            for start, end in self.open_intervals(day + timedelta(days=offset)):
                if end > at:
                    yield (max(start, at), end)

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the next instant the office opens (None within a year)."""
        return next((start for start, _ in self.intervals_from(at)), None)


def _subtract(
    start: datetime, end: datetime, closures: Sequence[tuple[datetime, datetime | None]]
) -> list[Interval]:
    pieces = [(start, end)]
    for c_start, c_end in closures:
        c_stop = c_end or datetime.max.replace(tzinfo=UTC)
        next_pieces: list[Interval] = []
        for p_start, p_end in pieces:
            if c_stop <= p_start or c_start >= p_end:
                next_pieces.append((p_start, p_end))
                continue
            if p_start < c_start:
                next_pieces.append((p_start, c_start))
            if c_stop < p_end:
                next_pieces.append((c_stop, p_end))
        pieces = next_pieces
    return pieces
