"""Rota queries and commands over the database: who is on shift, office calendars, closures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from helpline.db import flushed
from helpline.settings import Office, Settings
from rota.availability import OnShift
from rota.calendar import OfficeCalendar, bank_holidays
from rota.models import Adviser, Closure, Shift

REASON_MAX = 200  # a closure's reason, as the closure table holds it


class UnknownOffice(ValueError):
    """No office has that key."""


class UnknownAdviser(ValueError):
    """No adviser has that name."""


def office(settings: Settings, key: str) -> Office:
    """The configured office `key`, or UnknownOffice naming the known ones."""
    try:
        return settings.offices[key]
    except KeyError:
        known = ", ".join(settings.offices)
        raise UnknownOffice(f"no office '{key}' (known offices: {known})") from None


def calendar(
    session: Session, settings: Settings, key: str, around: datetime, days: int = 60
) -> OfficeCalendar:
    """The office's calendar with the closures that touch `days` either side of `around`."""
    return calendars(session, settings, [key], around, days)[key]


def calendars(
    session: Session, settings: Settings, keys: Sequence[str], around: datetime, days: int = 60
) -> dict[str, OfficeCalendar]:
    """The calendars of the offices `keys`, read in one statement (see `calendar`)."""
    window = {
        "keys": list(keys),
        "window_start": around - timedelta(days=days),
        "window_end": around + timedelta(days=days),
    }
    closures: dict[str, list[tuple[datetime, datetime | None]]] = {key: [] for key in keys}
    for row in flushed(session).execute(_closures_query(), window):
        closures[row.office].append((row.starts_at, row.ends_at))
    return {
        key: OfficeCalendar(
            hours=office(settings, key).hours,
            tz=settings.timezone,
            holidays=bank_holidays(settings.bank_holidays),
            closures=tuple(closures[key]),
        )
        for key in keys
    }


@cache
def _closures_query() -> Select[str, datetime, datetime | None]:
    """Built once (every new call asks), the offices and window bound each time it runs."""
    return (
        select(Closure.office, Closure.starts_at, Closure.ends_at)
        .where(
            Closure.office.in_(bindparam("keys", expanding=True)),
            Closure.starts_at < bindparam("window_end"),
            or_(Closure.ends_at.is_(None), Closure.ends_at > bindparam("window_start")),
        )
        .order_by(Closure.id)
    )


def closure_in_force(
    key: str | ColumnElement[str], at: datetime | ColumnElement[datetime]
) -> ColumnElement[bool]:
    """Whether a closure of office `key` is in force at `at` (values, or parameters bound when
    the query runs): the instants a closure cuts from an office's hours (`OfficeCalendar`), as
    a condition for a statement that reads other things too."""
    return exists().where(
        Closure.office == key,
        Closure.starts_at <= at,
        or_(Closure.ends_at.is_(None), Closure.ends_at > at),
    )


def open_at(settings: Settings, key: str, at: datetime, *, closed: bool) -> bool:
    """Whether office `key` is open at `at`, told whether a closure is in force then
    (`closure_in_force`): what its `calendar`'s `is_open(at)` says, without reading the closures
    again."""
    if closed:
        return False
    hours = OfficeCalendar(
        hours=office(settings, key).hours,
        tz=settings.timezone,
        holidays=bank_holidays(settings.bank_holidays),
    )
    return hours.is_open(at)


def calendar_if_configured(
    session: Session, settings: Settings, key: str, around: datetime, days: int = 60
) -> OfficeCalendar | None:
    """The office's calendar, or None when no office has that key any more (an office can be
    removed from the configuration while its callbacks remain)."""
    if key not in settings.offices:
        return None
    return calendar(session, settings, key, around, days)


def working_now(
    now: datetime | ColumnElement[datetime],
) -> Select[int, str, str, str, datetime, bool]:
    """The advisers whose shifts cover `now` (a value, or a parameter bound when the query runs),
    as `OnShift`'s fields, as a query to read or extend: an adviser who has left is never on
    shift, whatever shifts remain. Plain columns, so that nothing is loaded into the session."""
    return (
        select(Adviser.id, Adviser.name, Adviser.phone, Shift.office, Shift.ends_at, Adviser.away)
        .join(Adviser, Shift.adviser_id == Adviser.id)
        .where(Shift.starts_at <= now, Shift.ends_at > now, Adviser.left_at.is_(None))
        .order_by(Shift.starts_at, Adviser.name)
    )


def on_shift_now(row: Sequence[Any]) -> OnShift:
    """The adviser as working their shift, from the first columns of a row of `working_now`
    (or of a query that extends it)."""
    return OnShift(row[0], row[1], row[2], row[3], row[4], row[5])


def on_shift(session: Session, now: datetime) -> list[OnShift]:
    """Every adviser whose shift covers `now`, with the office they work for in that shift.

    An adviser who has left is never on shift, whatever shifts remain; one who is away is,
    marked so (they keep their callbacks, but are rung for nothing and given no new work)."""
    return [on_shift_now(row) for row in session.execute(working_now(now))]


def set_away(session: Session, adviser: Adviser, away: bool) -> bool:
    """Mark the adviser away (rung for no call, given no new callback) or available again;
    returns whether that changed anything."""
    if adviser.away == away:
        return False
    adviser.away = away
    session.flush()
    return True


def shift_at(session: Session, adviser_id: int, at: datetime) -> Shift | None:
    """The adviser's shift covering `at`, if any."""
    return session.scalars(
        select(Shift)
        .where(Shift.adviser_id == adviser_id, Shift.starts_at <= at, Shift.ends_at > at)
        .order_by(Shift.starts_at)
        .limit(1)
    ).first()


def next_shift(session: Session, adviser_id: int, after: datetime) -> Shift | None:
    """The adviser's first shift starting after `after`, if any."""
    return session.scalars(
        select(Shift)
        .where(Shift.adviser_id == adviser_id, Shift.starts_at > after)
        .order_by(Shift.starts_at)
        .limit(1)
    ).first()


def find_adviser(session: Session, name: str) -> Adviser:
    """The adviser called `name`, in any case."""
    adviser = session.scalar(select(Adviser).where(Adviser.name_key == name_key(name)))
    if adviser is None:
        raise UnknownAdviser(f"no adviser called '{name}'")
    return adviser


def name_key(name: str) -> str:
    """How an adviser's name is matched: case and surrounding space ignored."""
    return " ".join(name.split()).casefold()


def close_office(
    session: Session,
    settings: Settings,
    key: str,
    now: datetime,
    until: datetime | None = None,
    reason: str = "",
    starts: datetime | None = None,
) -> Closure:
    """Close an office from `starts` (now when not given, or when it has passed) until
    `until` (or until reopened)."""
    office(settings, key)
    begins = now if starts is None or starts < now else starts
    if until is not None and until <= now:
        raise ValueError("the closure must end in the future")
    if until is not None and until <= begins:
        raise ValueError("the closure must end after it starts")
    if len(reason) > REASON_MAX:
        raise ValueError(f"the reason must be {REASON_MAX} characters or fewer")
    closure = Closure(office=key, starts_at=begins, ends_at=until, reason=reason, created_at=now)
    session.add(closure)
    session.flush()
    return closure


def open_office(session: Session, settings: Settings, key: str, now: datetime) -> int:
    """End every closure of the office that is in force or still to come; returns how many.

    Staff reopen an office through callbacks.clocks.reopen_office, which also starts the
    deadlines of the callbacks that waited for it."""
    office(settings, key)
    closures = session.scalars(
        select(Closure).where(
            Closure.office == key, or_(Closure.ends_at.is_(None), Closure.ends_at > now)
        )
    ).all()
    for closure in closures:
        if closure.starts_at > now:
            session.delete(closure)
        else:
            closure.ends_at = now
    session.flush()
    return len(closures)


@dataclass(frozen=True)
class Stopped:
    """What stopping shifts did: shifts in progress that now end, shifts removed, and shifts
    already worked, which stay (statistics credit work to the shift's team)."""

    cut_short: int
    removed: int
    kept: int = 0

    @property
    def changed(self) -> bool:
        """Whether any shift was changed or removed."""
        return bool(self.cut_short or self.removed)


def stop_shifts(
    session: Session, settings: Settings, shifts: Sequence[Shift], now: datetime
) -> Stopped:
    """Stop the shifts from now: one already worked stays as it is, one in progress ends now,
    and one still to come is removed. Work is credited to the team of the shift the adviser
    was on at the time, so removing a shift worked would rewrite the statistics."""
    cut_short = removed = kept = 0
    for shift in shifts:
        if shift.ends_at <= now:
            kept += 1
        elif shift.starts_at < now:
            shift.ends_at = now
            shift.end = now.astimezone(settings.timezone).time()
            cut_short += 1
        else:
            session.delete(shift)
            removed += 1
    session.flush()
    return Stopped(cut_short, removed, kept)


def remove_day(
    session: Session, settings: Settings, adviser: Adviser, day: date, now: datetime
) -> Stopped:
    """Clear the adviser's shifts on the local date `day` from now: a shift in progress ends
    now, and shifts already worked stay (so a day in the past is left as it was)."""
    shifts = session.scalars(
        select(Shift).where(Shift.adviser_id == adviser.id, Shift.day == day)
    ).all()
    return stop_shifts(session, settings, shifts, now)


def left_on(settings: Settings, adviser: Adviser) -> date | None:
    """The local date the adviser left on, or None while they work for the service."""
    if adviser.left_at is None:
        return None
    return adviser.left_at.astimezone(settings.timezone).date()


def leave(session: Session, settings: Settings, adviser: Adviser, now: datetime) -> Stopped:
    """Record that the adviser has left (the first time only) and stop all their shifts from
    now: one in progress ends now, later ones are removed.

    Shifts already over stay, for the statistics. Their callbacks are the queue's to hand back.
    Until they are brought back, a rota import may not give them shifts from the day they left.
    """
    if adviser.left_at is None:
        adviser.left_at = adviser.updated_at = now
    shifts = session.scalars(
        select(Shift).where(Shift.adviser_id == adviser.id, Shift.ends_at > now)
    ).all()
    return stop_shifts(session, settings, shifts, now)


def bring_back(
    session: Session, settings: Settings, adviser: Adviser, now: datetime
) -> date | None:
    """An adviser who left comes back: a rota import may give them shifts again.

    Returns the local date they had left on, or None when they had not left (nothing changes).
    """
    was = left_on(settings, adviser)
    if was is not None:
        adviser.left_at = None
        adviser.updated_at = now
        session.flush()
    return was
