"""Callbacks as the contract's JSON: open ones, and those closed in the last 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from callbacks.models import Callback
from callbacks.states import OPEN_STATUSES, OUTCOMES
from calls.report import iso, shown_number


def warning(callback: Callback) -> str | None:
    """The strongest deadline warning raised for an open callback."""
    if callback.status not in OPEN_STATUSES:
        return None
    kinds = {w.kind for w in callback.warnings}
    return "overdue" if "overdue" in kinds else ("due-soon" if "due-soon" in kinds else None)


def callback_json(callback: Callback) -> dict[str, Any]:
    """One callback in the fields other tools rely on (plus the duty officer's warning)."""
    return {
        "id": callback.id,
        "phone": shown_number(callback.phone),
        "office": callback.office,
        "status": callback.status,
        "due_at": iso(callback.due_at),
        "next_attempt_at": iso(callback.next_attempt_at),
        "assigned_to": callback.assigned_to.name if callback.assigned_to else None,
        "attempts": sum(1 for a in callback.attempts if a.outcome in OUTCOMES),
        "messages": [
            {
                "recording_sid": m.recording_sid,
                "duration_s": m.duration_s,
                "received_at": iso(m.received_at),
            }
            for m in callback.messages
        ],
        "created_at": iso(callback.created_at),
        "warning": warning(callback),
    }


def list_callbacks(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Open callbacks, soonest deadline first and those with none after them, then those closed
    in the last 30 days."""
    since = now - timedelta(days=30)
    rows = session.scalars(
        select(Callback)
        .where(or_(Callback.status.in_(OPEN_STATUSES), Callback.closed_at >= since))
        .options(
            selectinload(Callback.messages),
            selectinload(Callback.attempts),
            selectinload(Callback.warnings),
            selectinload(Callback.assigned_to),
        )
        .order_by(
            Callback.closed_at.is_not(None), Callback.due_at.is_(None), Callback.due_at, Callback.id
        )
    ).all()
    return [callback_json(c) for c in rows]
