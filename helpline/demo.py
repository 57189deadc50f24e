"""Demo data: two advisers on shift in each office, all day, for a week from today; made by any
`--demo` command when missing. `simulate week` adds the rota of the week it plays."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.db import unit_of_work
from helpline.migrate import upgrade
from helpline.runtime import Runtime
from helpline.settings import Settings
from rota.calendar import bank_holidays
from rota.importer import ImportResult, import_rota
from rota.models import Adviser, Shift
from rota.service import name_key

ADVISERS = (
    ("Alex Adams", "+447700900001", "herefordshire"),
    ("Bryn Bowen", "+447700900002", "herefordshire"),
    ("Cara Clarke", "+447700900003", "worcestershire"),
    ("Dev Desai", "+447700900004", "worcestershire"),
)
HEADER = "name,phone,office,date,start,end,duty_officer"
PART_TIME = {"Bryn Bowen": 4}  # weekday (Monday = 0) the adviser does not work in a usual week


def demo_csv(settings: Settings, today: datetime, days: int = 7, left: Collection[str] = ()) -> str:
    """A rota CSV covering `days` days from today, in the contract's columns, without the
    advisers whose name keys are in `left`."""
    lines = [HEADER]
    offices = set(settings.offices)
    for offset in range(days):
        day = (today.astimezone(settings.timezone) + timedelta(days=offset)).date()
        for index, (name, phone, office) in enumerate(ADVISERS):
            if office not in offices or name_key(name) in left:
                continue
            duty = "yes" if index == 0 else "no"
            lines.append(f"{name},{phone},{office},{day.isoformat()},00:00,23:59,{duty}")
    return "\n".join(lines) + "\n"


def week_csv(settings: Settings, first_day: date, left: Collection[str] = ()) -> str:
    """A usual week's rota from `first_day`: each adviser works their office's hours, except on
    bank holidays and their day off; the first adviser at work each day is duty officer."""
    lines = [HEADER]
    holidays = bank_holidays(settings.bank_holidays)
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        duty_given = False
        for name, phone, key in ADVISERS:
            office = settings.offices.get(key)
            if office is None or name_key(name) in left or day in holidays:
                continue
            if PART_TIME.get(name) == day.weekday():
                continue
            for start, end in office.hours.get(day.weekday(), ()):
                duty = "no" if duty_given else "yes"
                duty_given = True
                lines.append(
                    f"{name},{phone},{key},{day.isoformat()},{start:%H:%M},{end:%H:%M},{duty}"
                )
    return "\n".join(lines) + "\n"


def leavers(session: Session) -> set[str]:
    """The name keys of advisers who have left: the demo never brings them back."""
    return set(session.scalars(select(Adviser.name_key).where(Adviser.left_at.is_not(None))))


def seed(session: Session, settings: Settings, now: datetime) -> str:
    """Import the demo rota (idempotent) and say what was done; an adviser made to leave in
    the demo stays away."""
    result = import_rota(session, settings, demo_csv(settings, now, left=leavers(session)), now)
    return "Demo rota: " + result.summary()


def _changed(result: ImportResult) -> bool:
    return bool(result.advisers_added + result.shifts_added + result.shifts_updated)


def prepare(runtime: Runtime) -> str | None:
    """Make the demo's database, and its rota when no shift is left to come (a fresh demo, or
    one last used more than a week ago); say what was made, if anything."""
    upgrade(runtime.settings.database_url)  # the demo's own database is always kept current
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        if session.scalar(select(Shift.id).where(Shift.ends_at > now).limit(1)) is not None:
            return None
        csv = demo_csv(runtime.settings, now, left=leavers(session))
        result = import_rota(session, runtime.settings, csv, now)
    if not _changed(result):
        return None
    return "Demo: made the demo rota for the week from today. " + result.summary()
