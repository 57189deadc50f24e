"""The rota as the staff pages show it: this week and next, shift by shift, with the gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.coverage import gaps
from rota.models import Adviser, Shift
from rota.service import calendar

DAYS = 14  # this week and next, from Monday


@dataclass(frozen=True)
class ShiftLine:
    """One shift as listed: who, where, when, and whether it has started."""

    id: int
    adviser_id: int
    adviser: str
    office: str
    office_name: str
    start: time
    end: time
    duty_officer: bool
    started: bool


@dataclass(frozen=True)
class Gap:
    """Hours an office is open with nobody on shift for it, in local time."""

    office_name: str
    start: time
    end: time


@dataclass(frozen=True)
class RotaDay:
    """One local date's shifts, in start order, and its gaps from now on."""

    day: date
    shifts: list[ShiftLine]
    gaps: list[Gap]


@dataclass(frozen=True)
class Fortnight:
    """The rota from Monday of this week to Sunday of next, a week at a time."""

    weeks: list[list[RotaDay]]
    advisers: list[tuple[int, str]]  # everyone on it, for the form that clears a day


def fortnight(session: Session, settings: Settings, now: datetime) -> Fortnight:
    """This week's and next week's shifts of both teams, and the hours open with nobody on
    shift for an office from `now` on."""
    tz = settings.timezone
    today = now.astimezone(tz).date()
    first = today - timedelta(days=today.weekday())
    days = [first + timedelta(days=n) for n in range(DAYS)]
    rows = session.execute(
        select(Shift, Adviser)
        .join(Adviser, Shift.adviser_id == Adviser.id)
        .where(Shift.day >= days[0], Shift.day <= days[-1])
        .order_by(Shift.day, Shift.starts_at, Adviser.name)
    ).all()
    by_day: dict[date, list[ShiftLine]] = {day: [] for day in days}
    intervals: dict[str, list[tuple[datetime, datetime]]] = {key: [] for key in settings.offices}
    for shift, adviser in rows:
        office = settings.offices.get(shift.office)
        by_day[shift.day].append(
            ShiftLine(
                shift.id,
                adviser.id,
                adviser.name,
                shift.office,
                office.name if office else shift.office,
                shift.start,
                shift.end,
                shift.duty_officer,
                shift.starts_at <= now,
            )
        )
        intervals.setdefault(shift.office, []).append((shift.starts_at, shift.ends_at))
    open_gaps: dict[date, list[Gap]] = {day: [] for day in days}
    for key, office in settings.offices.items():
        cal = calendar(session, settings, key, now, days=DAYS + 7)
        for day, found in gaps(cal, intervals[key], days, since=now).items():
            open_gaps[day].extend(
                Gap(office.name, start.astimezone(tz).time(), end.astimezone(tz).time())
                for start, end in found
            )
    listed = [RotaDay(day, by_day[day], sorted(open_gaps[day], key=_gap_order)) for day in days]
    people = sorted({(line.adviser_id, line.adviser) for d in listed for line in d.shifts})
    return Fortnight([listed[:7], listed[7:]], sorted(people, key=lambda p: p[1].casefold()))


def _gap_order(gap: Gap) -> tuple[time, str]:
    return gap.start, gap.office_name
