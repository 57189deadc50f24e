"""Demo data: two advisers on shift in each office, all day, for a week from today."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.importer import import_rota
from rota.models import Adviser
from rota.service import name_key

ADVISERS = (
    ("Alex Adams", "+447700900001", "herefordshire"),
    ("Bryn Bowen", "+447700900002", "herefordshire"),
    ("Cara Clarke", "+447700900003", "worcestershire"),
    ("Dev Desai", "+447700900004", "worcestershire"),
)


def demo_csv(settings: Settings, today: datetime, days: int = 7, left: Collection[str] = ()) -> str:
    """A rota CSV covering `days` days from today, in the contract's columns, without the
    advisers whose name keys are in `left`."""
    lines = ["name,phone,office,date,start,end,duty_officer"]
    offices = set(settings.offices)
    for offset in range(days):
        day = (today.astimezone(settings.timezone) + timedelta(days=offset)).date()
        for index, (name, phone, office) in enumerate(ADVISERS):
            if office not in offices or name_key(name) in left:
                continue
            duty = "yes" if index == 0 else "no"
            lines.append(f"{name},{phone},{office},{day.isoformat()},00:00,23:59,{duty}")
    return "\n".join(lines) + "\n"


def seed(session: Session, settings: Settings, now: datetime) -> str:
    """Import the demo rota (idempotent) and say what was done; an adviser made to leave in
    the demo stays away."""
    left = set(session.scalars(select(Adviser.name_key).where(Adviser.left_at.is_not(None))))
    result = import_rota(session, settings, demo_csv(settings, now, left=left), now)
    return "Demo rota: " + result.summary()
