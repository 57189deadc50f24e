"""What the callback services share: their errors, finding a callback, its audit events, and
writing it under its version.

Services flush but never commit. Two people acting on the same callback at once are kept apart
by the callback's version column: the second to write gets `Conflict`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from callbacks.models import Callback, CallbackEvent
from callbacks.states import OPEN_STATUSES
from rota.models import Adviser


class CallbackError(ValueError):
    """An action that cannot be done to this callback; the message says why."""


class Conflict(CallbackError):
    """Someone else changed the callback first."""


def event(
    session: Session, callback: Callback, kind: str, actor: str, now: datetime, **detail: Any
) -> None:
    """Keep an audit event for the callback."""
    session.add(
        CallbackEvent(callback_id=callback.id, kind=kind, actor=actor, at=now, detail=detail)
    )


def get(session: Session, callback_id: int) -> Callback:
    """The callback with this id, or CallbackError."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise CallbackError(f"no callback {callback_id}")
    return callback


def require_open(callback: Callback) -> None:
    """CallbackError unless the callback is still open (unassigned or assigned)."""
    if callback.status not in OPEN_STATUSES:
        raise CallbackError(f"callback {callback.id} is already {callback.status}")


def require_working(adviser: Adviser) -> None:
    """CallbackError if the adviser has left the service."""
    if adviser.left_at is not None:
        raise CallbackError(
            f"{adviser.name} has left the service, so they are given no callbacks and make "
            "no calls back"
        )


def save(session: Session, callback: Callback) -> None:
    """Write the callback under its version; Conflict if someone else wrote it first."""
    # Every action writes the row, so its version moves on and a concurrent action that read
    # the old version fails instead of silently doing the same work twice.
    callback_id = callback.id
    flag_modified(callback, "status")
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            f"callback {callback_id} was changed by someone else just now; "
            "look at it again and retry"
        ) from exc
