"""Calls as the contract's JSON: newest first, times in ISO 8601 with offsets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from calls.models import Call
from helpline.phones import is_pseudonym


def iso(at: datetime | None) -> str | None:
    """An instant in ISO 8601 with its UTC offset."""
    return at.isoformat() if at else None


def shown_number(number: str | None) -> str | None:
    """A stored number as the JSON gives it: E.164, or null when withheld or past retention
    (replaced by its pseudonym, which is no number)."""
    return None if is_pseudonym(number) else number


def call_json(call: Call) -> dict[str, Any]:
    """One call in the fields other tools rely on."""
    return {
        "sid": call.sid,
        "from": shown_number(call.from_number),
        "office": call.office,
        "status": call.status,
        "outcome": call.outcome,
        "answered_by": call.answered_by.name if call.answered_by else None,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
    }


def recent_calls(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent calls, newest first."""
    calls = session.scalars(
        select(Call)
        .options(joinedload(Call.answered_by))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()
    return [call_json(call) for call in calls]
