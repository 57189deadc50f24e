"""Demo data: two advisers on shift in each office, all day, for a week from today; made by any
`--demo` command when missing. `simulate week` adds the rota of the week it plays."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import service as accounts
from accounts.models import Role
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
# The demo's staff accounts, one per role, all with the published DEMO_PASSWORD; the adviser
# and the duty officer are advisers of the demo rota.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published in the README and at start
DEMO_ACCOUNTS = (
    (Role.ADVISER, "Bryn Bowen", "Bryn Bowen"),
    (Role.DUTY_OFFICER, "Alex Adams", "Alex Adams"),
    (Role.MANAGER, "Morgan Miles", None),
    (Role.ADMIN, "Ash Ahmed", None),
)
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


def demo_email(role: Role) -> str:
    """The demo account's email for a role: ROLE@demo.test."""
    return f"{role.value}@demo.test"


def sign_in_help() -> str:
    """How to sign in to the demo's staff pages."""
    emails = ", ".join(demo_email(role) for role, _, _ in DEMO_ACCOUNTS)
    return f"Demo staff accounts: {emails}; password '{DEMO_PASSWORD}'"


def add_accounts(session: Session, now: datetime) -> int:
    """Add the demo's staff accounts that are missing; how many were added."""
    added = 0
    for role, name, adviser_name in DEMO_ACCOUNTS:
        if accounts.find(session, demo_email(role)) is not None:
            continue
        adviser = None
        if adviser_name is not None:
            key = name_key(adviser_name)
            adviser = session.scalar(select(Adviser).where(Adviser.name_key == key))
        if adviser_name and adviser is None:
            continue  # its adviser is not on this demo's rota
        accounts.add(
            session,
            email=demo_email(role),
            name=name,
            role=role,
            password=DEMO_PASSWORD,
            adviser=adviser,
            now=now,
        )
        added += 1
    return added


def _changed(result: ImportResult) -> bool:
    return bool(result.advisers_added + result.shifts_added + result.shifts_updated)


def prepare(runtime: Runtime) -> str | None:
    """Make the demo's database, its rota when no shift is left to come (a fresh demo, or
    one last used more than a week ago) and its staff accounts; say what was made, if anything."""
    upgrade(runtime.settings.database_url)  # the demo's own database is always kept current
    now = runtime.clock()
    made = []
    with unit_of_work(runtime.sessions) as session:
        if session.scalar(select(Shift.id).where(Shift.ends_at > now).limit(1)) is None:
            csv = demo_csv(runtime.settings, now, left=leavers(session))
            result = import_rota(session, runtime.settings, csv, now)
            if _changed(result):
                made.append("Demo: made the demo rota for the week from today. " + result.summary())
        if add_accounts(session, now):
            made.append(sign_in_help() + ".")
    return "\n".join(made) or None
