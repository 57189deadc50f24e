"""Changing one shift from the staff pages: move it, or remove it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.calendar import local_instant
from rota.models import Adviser, Shift
from rota.service import Stopped, left_on, office, stop_shifts


class ShiftError(ValueError):
    """A change to a shift that cannot be made; `field` names the form field at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Placing:
    """Where a shift is: its local date, start and end, and its office."""

    day: date
    start: time
    end: time
    office: str

    def describe(self) -> dict[str, str]:
        """The placing as plain strings, for the audit log."""
        return {
            "date": self.day.isoformat(),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
            "office": self.office,
        }


def placing(shift: Shift) -> Placing:
    """Where the shift is now."""
    return Placing(shift.day, shift.start, shift.end, shift.office)


def shift_by_id(session: Session, shift_id: int) -> Shift | None:
    """The shift with that id, if any."""
    return session.get(Shift, shift_id)


def adviser_by_id(session: Session, adviser_id: int) -> Adviser | None:
    """The adviser with that id, if any."""
    return session.get(Adviser, adviser_id)


def move_shift(
    session: Session, settings: Settings, shift: Shift, to: Placing, now: datetime
) -> Placing:
    """Move a shift still to come to another date, times or office; returns where it was.

    A shift started or worked stays as it is (statistics credit work to its team); the new
    times must be to come, the adviser must not have left by then, the shift may not overlap
    the adviser's others, and a duty officer's shift may not give a date a second one."""
    was = placing(shift)
    office(settings, to.office)
    tz = settings.timezone
    starts_at, ends_at = local_instant(to.day, to.start, tz), local_instant(to.day, to.end, tz)
    if shift.starts_at <= now:
        raise ShiftError("This shift has already started, so it cannot be moved", "day")
    if to.end <= to.start:
        raise ShiftError("The end must be after the start (a shift cannot cross midnight)", "end")
    if starts_at <= now:
        raise ShiftError("The new start has already passed", "start")
    left = left_on(settings, shift.adviser)
    if left is not None and to.day >= left:
        raise ShiftError(f"{shift.adviser.name} left on {left}", "day")
    others = session.scalars(select(Shift).where(Shift.day == to.day, Shift.id != shift.id)).all()
    for other in others:
        if other.adviser_id == shift.adviser_id and other.start < to.end and to.start < other.end:
            raise ShiftError(
                f"It would overlap {shift.adviser.name}'s shift "
                f"{other.start:%H:%M} to {other.end:%H:%M} that day",
                "start",
            )
        if shift.duty_officer and other.duty_officer:
            raise ShiftError(
                f"{to.day:%-d %B %Y} already has a duty officer ({other.adviser.name})", "day"
            )
    shift.day, shift.start, shift.end, shift.office = to.day, to.start, to.end, to.office
    shift.starts_at, shift.ends_at = starts_at, ends_at
    session.flush()
    return was


def remove_shift(session: Session, settings: Settings, shift: Shift, now: datetime) -> Stopped:
    """Remove one shift as `rota remove` removes a day's: one in progress ends now, one
    already worked stays."""
    return stop_shifts(session, settings, [shift], now)
