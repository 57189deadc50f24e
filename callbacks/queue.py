"""The callback queue: making and joining callbacks, and the actions staff take on them.

Services flush but never commit. Two people acting on the same callback at once are kept apart
by the callback's version column: the second to write gets `Conflict`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from callbacks import policy
from callbacks.models import OPEN_STATUSES, Attempt, Callback, CallbackEvent, Message, Note
from callbacks.working_time import due_at, retry_at
from helpline.settings import Settings
from rota import service as rota
from rota.models import Adviser

log = logging.getLogger("helpline.callbacks")


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


def promise(
    session: Session, settings: Settings, office: str, received_at: datetime
) -> datetime | None:
    """When the first attempt is due for a message received at `received_at`; None while the
    office has no opening in sight, or if the deadline cannot be worked out at all."""
    try:
        calendar = rota.calendar(session, settings, office, received_at, days=400)
        return due_at(calendar, received_at, settings.callbacks.promise_working_days)
    except SQLAlchemyError:
        raise  # the database itself failed: nothing can be filed
    except Exception as exc:
        # Nothing about a deadline may stop a message from being filed; the duty officer sees
        # it with no deadline. Office keys are configuration, never personal data.
        log.error(
            "no deadline for a callback to office %r: %s; filed without one",
            office,
            type(exc).__name__,
        )
        return None


def open_for_phone(session: Session, phone: str) -> Callback | None:
    """The caller's open callback, if there is one."""
    return session.scalar(
        select(Callback).where(Callback.phone == phone, Callback.status.in_(OPEN_STATUSES))
    )


def _create(
    session: Session, settings: Settings, phone: str | None, office: str, now: datetime, kind: str
) -> Callback:
    callback = Callback(
        phone=phone,
        office=office,
        status="open",
        created_at=now,
        due_at=promise(session, settings, office, now),
    )
    session.add(callback)
    session.flush()
    event(session, callback, kind, "service", now, office=office)
    return callback


def callback_for(
    session: Session,
    settings: Settings,
    phone: str | None,
    office: str,
    now: datetime,
    kind: str = "created",
) -> tuple[Callback, bool]:
    """The caller's open callback or a new one, and whether it is new.

    A caller with no number always gets a new one: two withheld callers are not one person.
    """
    if phone is None:
        return _create(session, settings, None, office, now, kind), True
    existing = open_for_phone(session, phone)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            return _create(session, settings, phone, office, now, kind), True
    except IntegrityError:
        # Another message from this number made the callback a moment ago: join it.
        existing = open_for_phone(session, phone)
        if existing is None:
            raise
        return existing, False


def file_message(session: Session, settings: Settings, message: Message, now: datetime) -> Callback:
    """Put a message into its caller's open callback (keeping its place) or a new one."""
    if message.callback_id is not None:
        return get(session, message.callback_id)
    callback, created = callback_for(
        session, settings, message.phone, message.office, message.received_at
    )
    message.callback_id = callback.id
    if not created:
        event(
            session,
            callback,
            "message-joined",
            "service",
            now,
            message_id=message.id,
            office=message.office,
        )
    session.flush()
    return callback


def get(session: Session, callback_id: int) -> Callback:
    """The callback with this id, or CallbackError."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise CallbackError(f"no callback {callback_id}")
    return callback


def _require_open(callback: Callback) -> None:
    if callback.status not in OPEN_STATUSES:
        raise CallbackError(f"callback {callback.id} is already {callback.status}")


def _require_working(adviser: Adviser) -> None:
    if adviser.left_at is not None:
        raise CallbackError(
            f"{adviser.name} has left the service, so they are given no callbacks and make "
            "no calls back"
        )


def _flush(session: Session, callback: Callback) -> None:
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
    _require_open(callback)
    _require_working(adviser)
    previous = callback.assigned_to.name if callback.assigned_to else None
    callback.assigned_to_id = adviser.id
    callback.assigned_to = adviser
    callback.assigned_at = now
    callback.status = "assigned"
    _flush(session, callback)
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
    _require_open(callback)
    callback.assigned_to_id = None
    callback.assigned_to = None
    callback.assigned_at = None
    callback.status = "open"
    _flush(session, callback)
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
    _require_open(callback)
    callback.status = "cancelled"
    callback.close_reason = reason.strip()[:200]
    callback.closed_at = now
    callback.next_attempt_at = None
    _flush(session, callback)
    event(session, callback, "cancelled", actor, now)


def add_note(session: Session, callback: Callback, author: str, text: str, now: datetime) -> Note:
    """Add a note for colleagues."""
    note = Note(callback_id=callback.id, author=author, text=text.strip(), created_at=now)
    session.add(note)
    session.flush()
    return note


def counted_attempts(callback: Callback) -> int:
    """Attempts that reached the point of an outcome (the ones the retry limit counts)."""
    return sum(1 for a in callback.attempts if a.outcome in policy.OUTCOMES)


# An attempt Twilio has said nothing about for half an hour never got going; one whose phones
# Twilio reports live stays in progress until Twilio says it ended, up to a long advice call.
SILENT_ATTEMPT = timedelta(minutes=30)
LONGEST_ATTEMPT = timedelta(hours=4)
LIVE = ("queued", "initiated", "ringing", "in-progress")


def _live(attempt: Attempt, now: datetime) -> bool:
    if attempt.outcome is not None or attempt.ended_at is not None:
        return False
    if attempt.adviser_status is None:
        return attempt.started_at > now - SILENT_ATTEMPT
    return attempt.adviser_status in LIVE and attempt.started_at > now - LONGEST_ATTEMPT


def in_progress(callback: Callback, now: datetime) -> Attempt | None:
    """The attempt whose phones may still be ringing or talking, if any."""
    return next((a for a in callback.attempts if _live(a, now)), None)


def advisers_calling_back(session: Session, now: datetime) -> set[int]:
    """Advisers in the middle of a call-back attempt, who should not be rung for new calls."""
    return set(
        session.scalars(
            select(Attempt.adviser_id).where(
                Attempt.outcome.is_(None),
                Attempt.ended_at.is_(None),
                Attempt.placed.is_(True),
                Attempt.adviser_id.is_not(None),
                or_(
                    and_(
                        Attempt.adviser_status.is_(None),
                        Attempt.started_at > now - SILENT_ATTEMPT,
                    ),
                    and_(
                        Attempt.adviser_status.in_(LIVE),
                        Attempt.started_at > now - LONGEST_ATTEMPT,
                    ),
                ),
            )
        )
    )


def start_attempt(
    session: Session, callback: Callback, adviser: Adviser, actor: str, now: datetime
) -> Attempt:
    """Begin a call-back attempt by `adviser`; the call itself is placed after commit."""
    _require_open(callback)
    _require_working(adviser)
    if callback.phone is None:
        raise CallbackError(f"callback {callback.id} has no number to call")
    if callback.next_attempt_at is not None and callback.next_attempt_at > now:
        raise CallbackError(
            f"callback {callback.id} waits for its retry at {callback.next_attempt_at.isoformat()}"
        )
    busy = in_progress(callback, now)
    if busy is not None:
        who = busy.adviser.name if busy.adviser else "someone"
        raise Conflict(
            f"callback {callback.id} is being called back now by {who} (since "
            f"{busy.started_at.isoformat()}); record that attempt's outcome first"
        )
    if callback.assigned_to_id != adviser.id:
        assign(session, callback, adviser, actor, now)
    attempt = Attempt(callback_id=callback.id, adviser_id=adviser.id, started_at=now)
    session.add(attempt)
    callback.attempts.append(attempt)
    _flush(session, callback)
    event(session, callback, "attempt-started", actor, now, attempt_id=attempt.id)
    return attempt


def _unconfirmed_automatic(session: Session, callback: Callback) -> Attempt | None:
    """The latest attempt when its outcome was recorded automatically (from Twilio's report)
    and nobody has given theirs since: the attempt an adviser's word is about.

    Once a newer attempt has started (the retry), or someone has recorded an outcome after the
    automatic one, there is none.
    """
    latest = callback.attempts[-1] if callback.attempts else None
    if latest is None or latest.outcome not in policy.OUTCOMES:
        return None
    last_word = session.scalars(
        select(CallbackEvent)
        .where(CallbackEvent.callback_id == callback.id, CallbackEvent.kind.startswith("outcome-"))
        .order_by(CallbackEvent.id.desc())
        .limit(1)
    ).first()
    if last_word is None or last_word.detail.get("attempt_id") != latest.id:
        return None
    return latest if last_word.detail.get("automatic") else None


def record_outcome(
    session: Session,
    settings: Settings,
    callback: Callback,
    outcome: str,
    actor: str,
    now: datetime,
    note: str | None = None,
    *,
    automatic: bool = False,
) -> str:
    """Record how an attempt went, then complete, retry or give up; returns the new status.

    An attempt's outcome is recorded once: a person's word right after an `automatic` one
    (Twilio's "no answer") replaces it for the same attempt rather than counting another, and
    the callback follows the new outcome (a pending retry becomes completed, say).
    """
    if outcome not in policy.OUTCOMES:
        raise CallbackError(f"unknown outcome '{outcome}' (use {', '.join(policy.OUTCOMES)})")
    replacing = None if automatic else _unconfirmed_automatic(session, callback)
    if replacing is None:
        _require_open(callback)
        attempt = next((a for a in reversed(callback.attempts) if a.outcome is None), None)
        if attempt is None:
            adviser_id = callback.assigned_to_id
            attempt = Attempt(callback_id=callback.id, adviser_id=adviser_id, started_at=now)
            session.add(attempt)
            callback.attempts.append(attempt)
    elif callback.status not in (*OPEN_STATUSES, "unreachable"):
        raise CallbackError(f"callback {callback.id} is already {callback.status}")
    else:
        attempt = replacing
    replaced = attempt.outcome
    attempt.outcome = outcome
    next_state = policy.after_outcome(
        outcome, counted_attempts(callback), settings.callbacks.max_attempts
    )
    attempt.ended_at = attempt.ended_at or now
    if note:
        attempt.note = note.strip()
    if next_state == "retry":
        if replacing is None or callback.status not in OPEN_STATUSES:
            calendar = rota.calendar_if_configured(session, settings, callback.office, now)
            if calendar is None:
                log.warning(
                    "callback %s: office %r is no longer configured; retry spaced in plain hours",
                    callback.id,
                    callback.office,
                )
            callback.next_attempt_at = retry_at(
                calendar, now, settings.callbacks.retry_spacing_working_hours
            )
            callback.status = "open"
            callback.assigned_to_id = None
            callback.assigned_to = None
        # else the automatic outcome already set the retry going; it stands.
    else:
        if replacing is not None and attempt.adviser_id is not None:
            # The automatic retry had unassigned it; the adviser who made the attempt closes it.
            callback.assigned_to_id = attempt.adviser_id
            callback.assigned_to = attempt.adviser
        callback.status = next_state
        callback.closed_at = now
        callback.next_attempt_at = None
    _flush(session, callback)
    detail: dict[str, Any] = {"attempt_id": attempt.id, "status": callback.status}
    if automatic:
        detail["automatic"] = True
    if replacing is not None:
        detail["replaced"] = replaced
    event(session, callback, f"outcome-{outcome}", actor, now, **detail)
    if note:
        add_note(session, callback, actor, note, now)
    return callback.status
