"""How long a range of local dates the statistics may be asked for, on the page and from the
command line alike: every figure is a query over the whole range, so a range of years would
keep a web worker and the database busy for nothing anyone asked for."""

from __future__ import annotations

from datetime import date, timedelta

MAX_DAYS = 366  # a year, leap day included
DEFAULT_DAYS = 28  # the range shown when none is asked for: the last four weeks, today's included


def default_range(today: date) -> tuple[date, date]:
    """The last DEFAULT_DAYS local dates, ending `today`."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def days_in(first: date, last: date) -> int:
    """The local dates from `first` to `last`, both included."""
    return (last - first).days + 1


def too_long(first: date, last: date) -> str | None:
    """Why the range may not be reported, in words for a person; None when it may. A range
    that ends before it starts is each face's own check, in the words of its own fields."""
    if days_in(first, last) > MAX_DAYS:
        return f"The range can be at most {MAX_DAYS} days"
    return None
