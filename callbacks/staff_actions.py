"""What staff do to a callback, and the scheduler on their behalf: assign and reassign, put back
in the pool, hand back an adviser's callbacks, close, and add notes.

Services flush but never commit; an action on a callback that someone else has just changed
fails with `Conflict` (see `callbacks.common.save`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks.common import CallbackError, event, require_open, require_working, save
from callbacks.models import Callback, Note
from callbacks.states import OPEN_STATUSES, CallbackStatus
from rota import service as rota
from rota.models import Adviser


@dataclass(frozen=True)
class OffShift:
    """An assignment to an adviser who is not on shift: allowed, but staff should be told.

    It stands until `until`, the end of the adviser's next shift (None: they have no shift to
    come, so it stands until someone reassigns it); then `return-to-pool` takes it back.
    """

    adviser: str
    until: datetime | None

    def warning(self, tz: tzinfo) -> str:
        """What to tell the person who assigned it."""
        if self.until is None:
            return (
                f"{self.adviser} is not on shift now and has no shift to come; the callback "
                "stays with them until someone reassigns it."
            )
        local = self.until.astimezone(tz)
        return (
            f"{self.adviser} is not on shift now; the callback stays with them until their "
            f"next shift ends ({local:%A} {local.day} {local:%B %H:%M})."
        )


def assign(
    session: Session, callback: Callback, adviser: Adviser, actor: str, now: datetime
) -> OffShift | None:
    """Give the callback to an adviser (a reassignment if someone else had it).

    Returns a notice when the adviser is not on shift now, which staff should be shown.
    """
    require_open(callback)
    require_working(adviser)
    previous = callback.assigned_to.name if callback.assigned_to else None
    callback.assigned_to_id = adviser.id
    callback.assigned_to = adviser
    callback.assigned_at = now
    callback.status = CallbackStatus.ASSIGNED
    save(session, callback)
    off_shift = None
    if rota.shift_at(session, adviser.id, now) is None:
        upcoming = rota.next_shift(session, adviser.id, now)
        off_shift = OffShift(adviser.name, upcoming.ends_at if upcoming else None)
    event(
        session,
        callback,
        "assigned",
        actor,
        now,
        adviser_id=adviser.id,
        previous=previous,
        off_shift=off_shift is not None,
    )
    return off_shift


def unassign(session: Session, callback: Callback, actor: str, now: datetime, reason: str) -> None:
    """Put the callback back in the pool."""
    require_open(callback)
    callback.assigned_to_id = None
    callback.assigned_to = None
    callback.assigned_at = None
    callback.status = CallbackStatus.OPEN
    save(session, callback)
    event(session, callback, "returned-to-pool", actor, now, reason=reason)


def hand_back(session: Session, adviser: Adviser, actor: str, now: datetime, reason: str) -> int:
    """Put every open callback assigned to the adviser back in the pool; returns how many."""
    held = session.scalars(
        select(Callback)
        .where(Callback.assigned_to_id == adviser.id, Callback.status.in_(OPEN_STATUSES))
        .order_by(Callback.id)
    ).all()
    for callback in held:
        unassign(session, callback, actor, now, reason)
    return len(held)


def close(session: Session, callback: Callback, reason: str, actor: str, now: datetime) -> None:
    """Cancel a callback that needs no call (a duplicate, a caller who rang again)."""
    if not reason.strip():
        raise CallbackError("a reason is needed to close a callback")
    require_open(callback)
    callback.status = CallbackStatus.CANCELLED
    callback.close_reason = reason.strip()[:200]
    callback.closed_at = now
    callback.next_attempt_at = None
    save(session, callback)
    event(session, callback, "cancelled", actor, now, reason=callback.close_reason)


def add_note(
    session: Session,
    callback: Callback,
    author: str,
    text: str,
    now: datetime,
    *,
    author_account_id: int | None = None,
) -> Note:
    """Add a note for colleagues: the one place notes are written."""
    note = Note(
        callback_id=callback.id,
        author=author,
        author_account_id=author_account_id,
        text=text.strip(),
        created_at=now,
    )
    session.add(note)
    session.flush()
    return note
