"""Which team an adviser was working for at a moment, from their shifts.

The shift under way; else the latest one begun before; else (work before any shift) their first
shift of all. None for an adviser with no shifts: the caller chooses what that means.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rota.models import Shift


def team_at(session: Session, adviser_id: int, at: datetime) -> str | None:
    """The office of the adviser's shift at `at`, by the rule above."""
    mine = select(Shift.office).where(Shift.adviser_id == adviser_id)
    under_way = mine.where(Shift.starts_at <= at, Shift.ends_at > at).order_by(
        Shift.starts_at.desc()
    )
    begun = mine.where(Shift.starts_at <= at).order_by(Shift.starts_at.desc())
    first = mine.order_by(Shift.starts_at)
    for query in (under_way, begun, first):
        office = session.scalar(query.limit(1))
        if office is not None:
            return office
    return None
