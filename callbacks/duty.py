"""What the callback pages need besides the queue itself: the advisers one may assign to, an
adviser's away switch, and today's rota with who is on a call now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks.attempts import advisers_calling_back
from callbacks.common import CallbackError
from calls import claim
from calls.models import CallLeg
from helpline.settings import Settings
from rota import service as rota
from rota.models import Adviser, Shift


@dataclass(frozen=True)
class AdviserChoice:
    """An adviser a callback may be assigned to."""

    adviser_id: int
    name: str
    away: bool


@dataclass(frozen=True)
class RotaLine:
    """One shift of today in an office, and what its adviser is doing now."""

    adviser_id: int
    name: str
    start: time
    end: time
    on_shift: bool
    away: bool
    doing: str | None  # "on a call", "being rung" or "calling a parent back"


@dataclass(frozen=True)
class OfficeToday:
    """An office's shifts of today, earliest first."""

    office: str
    office_name: str
    lines: list[RotaLine]


def advisers(session: Session) -> list[AdviserChoice]:
    """Every adviser who has not left, by name."""
    rows = session.scalars(
        select(Adviser).where(Adviser.left_at.is_(None)).order_by(Adviser.name)
    ).all()
    return [AdviserChoice(a.id, a.name, a.away) for a in rows]


def is_away(session: Session, adviser_id: int) -> bool:
    """Whether the adviser has set themself away."""
    return _adviser(session, adviser_id).away


def set_away(session: Session, adviser_id: int, away: bool) -> bool:
    """Set the adviser away or available again; whether that changed anything."""
    return rota.set_away(session, _adviser(session, adviser_id), away)


def _adviser(session: Session, adviser_id: int) -> Adviser:
    adviser = session.get(Adviser, adviser_id)
    if adviser is None:
        raise CallbackError(f"no adviser {adviser_id}")
    return adviser


def busy_now(session: Session, settings: Settings, now: datetime) -> dict[int, str]:
    """Advisers on a helpline call, being rung for one, or calling a parent back at `now`."""
    doing = dict.fromkeys(advisers_calling_back(session, now), "calling a parent back")
    # The same windows and tests as routing's, so this view and the ringing agree.
    windows = claim.Windows.at(settings, now)
    for adviser_id in session.scalars(
        select(CallLeg.adviser_id).where(claim.ringing_leg(windows.ringing_since))
    ):
        doing[adviser_id] = "being rung"
    for adviser_id in session.scalars(
        select(CallLeg.adviser_id).where(claim.busy_leg(windows.busy_since))
    ):
        doing[adviser_id] = "on a call"
    return doing


def rota_today(session: Session, settings: Settings, now: datetime) -> list[OfficeToday]:
    """Each configured office's shifts of today (local date), who is on shift and who is busy."""
    today = now.astimezone(settings.timezone).date()
    rows = session.execute(
        select(Shift, Adviser)
        .join(Adviser, Shift.adviser_id == Adviser.id)
        .where(Shift.day == today, Adviser.left_at.is_(None))
        .order_by(Shift.starts_at, Adviser.name)
    ).all()
    doing = busy_now(session, settings, now)
    offices = []
    for key, office in settings.offices.items():
        lines = [
            RotaLine(
                adviser.id,
                adviser.name,
                shift.start,
                shift.end,
                shift.starts_at <= now < shift.ends_at,
                adviser.away,
                doing.get(adviser.id),
            )
            for shift, adviser in rows
            if shift.office == key
        ]
        offices.append(OfficeToday(key, office.name, lines))
    return offices
