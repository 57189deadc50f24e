"""The offices as the staff pages show them: hours, open now or not, and closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.models import Closure
from rota.service import calendar

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ClosureLine:
    """A closure in force or to come; `ends_at` None means until further notice."""

    id: int
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    in_force: bool


@dataclass(frozen=True)
class OfficeState:
    """One office: its weekly hours in words, whether it is open now, when it next opens,
    and its current and future closures."""

    key: str
    name: str
    hours: list[tuple[str, str]]
    open_now: bool
    next_opening: datetime | None
    closures: list[ClosureLine]


def office_states(session: Session, settings: Settings, now: datetime) -> list[OfficeState]:
    """Every configured office as it stands at `now`."""
    states = []
    for key, office in settings.offices.items():
        cal = calendar(session, settings, key, now, days=400)
        rows = session.scalars(
            select(Closure)
            .where(Closure.office == key, or_(Closure.ends_at.is_(None), Closure.ends_at > now))
            .order_by(Closure.starts_at, Closure.id)
        ).all()
        hours = [
            (WEEKDAYS[day], ", ".join(f"{a:%H:%M} to {b:%H:%M}" for a, b in office.hours[day]))
            for day in sorted(office.hours)
            if office.hours[day]
        ]
        states.append(
            OfficeState(
                key,
                office.name,
                hours,
                cal.is_open(now),
                cal.next_opening(now),
                [
                    ClosureLine(c.id, c.starts_at, c.ends_at, c.reason, c.starts_at <= now)
                    for c in rows
                ],
            )
        )
    return states
