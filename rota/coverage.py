"""Where an office is open and nobody is on shift for it: the rota's gaps.

Pure: the office's calendar, its shifts and the dates are passed in; instants are UTC-aware.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from rota.calendar import Interval, OfficeCalendar


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals in order, overlapping or touching ones joined."""
    joined: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def uncovered(open_hours: Sequence[Interval], shifts: Iterable[Interval]) -> list[Interval]:
    """The parts of the open hours that no shift covers, in order."""
    cover = merged(shifts)
    left: list[Interval] = []
    for start, end in open_hours:
        cursor = start
        for c_start, c_end in cover:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                left.append((cursor, c_start))
            cursor = max(cursor, c_end)
        if cursor < end:
            left.append((cursor, end))
    return left


def gaps(
    calendar: OfficeCalendar,
    shifts: Sequence[Interval],
    days: Iterable[date],
    since: datetime | None = None,
) -> dict[date, list[Interval]]:
    """For each local date of `days`, the hours the office is open (hours, bank holidays and
    closures counted) with nobody on shift for it; from `since` on, when given."""
    found: dict[date, list[Interval]] = {}
    for day in days:
        hours = calendar.open_intervals(day)
        if since is not None:
            hours = [(max(start, since), end) for start, end in hours if end > since]
        found[day] = uncovered(hours, shifts)
    return found
