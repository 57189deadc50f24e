"""Call-back attempts: which are live, starting one, and recording how it went, which completes
the callback, schedules a retry or gives up.

Services flush but never commit; the call itself is placed after the commit that records the
attempt (see `callbacks.calling_back`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from callbacks import policy
from callbacks.common import CallbackError, Conflict, event, require_open, require_working, save
from callbacks.models import Attempt, Callback
from callbacks.staff_actions import add_note, assign
from callbacks.states import OPEN_STATUSES, OUTCOMES, AttemptOutcome, CallbackStatus
from callbacks.working_time import retry_at
from calls.claim import BusyElsewhere
from calls.states import TwilioCallStatus
from helpline.db import flushed
from helpline.settings import Settings
from rota import service as rota
from rota import teams
from rota.models import Adviser

log = logging.getLogger("helpline.callbacks")


def new_attempt(
    session: Session, callback: Callback, adviser_id: int | None, now: datetime
) -> Attempt:
    """A new attempt on `callback` by `adviser_id` starting `now`, with the team the adviser
    was working for then (the callback's own county when their shifts cannot say)."""
    team = None
    if adviser_id is not None:
        team = teams.team_at(session, adviser_id, now) or callback.office
    attempt = Attempt(adviser_id=adviser_id, office=callback.office, team=team, started_at=now)
    # Appended through the relationship only: adding a row that already names its callback,
    # then appending it, lets the collection's first load flush and find it, and list it twice.
    callback.attempts.append(attempt)
    return attempt


def placed(attempt: Attempt, call_sid: str | None) -> None:
    """Twilio has taken the attempt's call: it counts as placed, and as the callback's first
    attempt when none placed started before it."""
    attempt.placed = True
    attempt.call_sid = call_sid
    first = attempt.callback.first_attempt_at
    if first is None or attempt.started_at < first:
        attempt.callback.first_attempt_at = attempt.started_at


def counted_attempts(callback: Callback) -> int:
    """Attempts that reached the point of an outcome (the ones the retry limit counts)."""
    return sum(1 for a in callback.attempts if a.outcome in OUTCOMES)


# An attempt Twilio has said nothing about for half an hour never got going; one whose phones
# Twilio reports live stays in progress until Twilio says it ended, up to a long advice call.
SILENT_ATTEMPT = timedelta(minutes=30)
LONGEST_ATTEMPT = timedelta(hours=4)
LIVE = (
    TwilioCallStatus.QUEUED,
    TwilioCallStatus.INITIATED,
    TwilioCallStatus.RINGING,
    TwilioCallStatus.IN_PROGRESS,
)


def live(now: datetime) -> ColumnElement[bool]:
    """Whether an attempt's phones may still be ringing or talking at `now`: it has neither an
    outcome nor an end, and Twilio has either said nothing of it yet (for `SILENT_ATTEMPT`) or
    reports its adviser's phone live (for up to `LONGEST_ATTEMPT`). The one statement of the
    rule, for queries about one callback or about every adviser."""
    return _live_since(now - SILENT_ATTEMPT, now - LONGEST_ATTEMPT)


def _live_since(
    silent_since: datetime | ColumnElement[datetime],
    longest_since: datetime | ColumnElement[datetime],
) -> ColumnElement[bool]:
    return and_(
        Attempt.outcome.is_(None),
        Attempt.ended_at.is_(None),
        or_(
            and_(Attempt.adviser_status.is_(None), Attempt.started_at > silent_since),
            and_(Attempt.adviser_status.in_(LIVE), Attempt.started_at > longest_since),
        ),
    )


def in_progress(session: Session, callback: Callback, now: datetime) -> Attempt | None:
    """The callback's attempt whose phones may still be ringing or talking, if any."""
    return session.scalars(
        select(Attempt)
        .where(Attempt.callback_id == callback.id, live(now))
        .order_by(Attempt.id)
        .limit(1)
    ).first()


def advisers_calling_back(session: Session, now: datetime) -> set[int]:
    """Advisers in the middle of a call-back attempt, who should not be rung for new calls."""
    return set(flushed(session).scalars(_calling_back_query(), _calling_back_values(now)))


def _calling_back_values(now: datetime) -> dict[str, Any]:
    return {"silent_since": now - SILENT_ATTEMPT, "longest_since": now - LONGEST_ATTEMPT}


@cache
def _calling_back_query() -> Select[int | None]:
    """Built once (every new call asks), its instants bound each time it runs."""
    return select(Attempt.adviser_id).where(
        _live_since(bindparam("silent_since"), bindparam("longest_since")),
        Attempt.placed.is_(True),
        Attempt.adviser_id.is_not(None),
    )


# The same advisers, as routing reads them: in its own statement about who is on shift.
CALLING_BACK = BusyElsewhere(_calling_back_query(), _calling_back_values)


def start_attempt(
    session: Session, callback: Callback, adviser: Adviser, actor: str, now: datetime
) -> Attempt:
    """Begin a call-back attempt by `adviser`; the call itself is placed after commit."""
    require_open(callback)
    require_working(adviser)
    if callback.phone is None:
        raise CallbackError(f"callback {callback.id} has no number to call")
    if callback.next_attempt_at is not None and callback.next_attempt_at > now:
        raise CallbackError(
            f"callback {callback.id} waits for its retry at {callback.next_attempt_at.isoformat()}"
        )
    busy = in_progress(session, callback, now)
    if busy is not None:
        who = busy.adviser.name if busy.adviser else "someone"
        raise Conflict(
            f"callback {callback.id} is being called back now by {who} (since "
            f"{busy.started_at.isoformat()}); record that attempt's outcome first"
        )
    if callback.assigned_to_id != adviser.id:
        assign(session, callback, adviser, actor, now)
    attempt = new_attempt(session, callback, adviser.id, now)
    save(session, callback)
    event(session, callback, "attempt-started", actor, now, attempt_id=attempt.id)
    return attempt


def attempt_corrected(callback: Callback, now: datetime) -> Attempt | None:
    """The attempt whose outcome a person's word at `now` replaces, if it is about one that
    already has an outcome; None when it is about an attempt still to be given one (or made from
    a desk phone, which counts as a new attempt).

    The word is about the latest attempt when its outcome was Twilio's automatic one and no newer
    attempt has started (the adviser knows better), or while the callback waits for its retry
    (no call can have been made since, so the word corrects the one already recorded).
    """
    latest = callback.attempts[-1] if callback.attempts else None
    if latest is None or latest.outcome not in OUTCOMES:
        return None
    if latest.outcome_source == "twilio":
        return latest
    waiting = callback.next_attempt_at is not None and callback.next_attempt_at > now
    return latest if waiting and callback.status in OPEN_STATUSES else None


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
    author_account_id: int | None = None,
) -> str:
    """Record how an attempt went, then complete, retry or give up; returns the new status.

    An attempt's outcome is recorded once: a person's word about an attempt that already has
    one (see `attempt_corrected`) replaces it rather than counting another, and the callback
    follows the new outcome from the same count of attempts (a pending retry becomes completed,
    say, or keeps its time).
    """
    if outcome not in OUTCOMES:
        raise CallbackError(f"unknown outcome '{outcome}' (use {', '.join(OUTCOMES)})")
    replacing = None if automatic else attempt_corrected(callback, now)
    if replacing is None:
        require_open(callback)
        attempt = next((a for a in reversed(callback.attempts) if a.outcome is None), None)
        if attempt is None:
            attempt = new_attempt(session, callback, callback.assigned_to_id, now)
    elif callback.status not in (*OPEN_STATUSES, CallbackStatus.UNREACHABLE):
        raise CallbackError(f"callback {callback.id} is already {callback.status}")
    else:
        attempt = replacing
    replaced, replaced_source = attempt.outcome, attempt.outcome_source
    attempt.outcome = AttemptOutcome(outcome)
    attempt.outcome_source = "twilio" if automatic else "adviser"
    next_state = policy.after_outcome(
        outcome, counted_attempts(callback), settings.callbacks.max_attempts
    )
    attempt.ended_at = attempt.ended_at or now
    if note:
        attempt.note = note.strip()
    if next_state == CallbackStatus.OPEN:  # a retry
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
            callback.status = CallbackStatus.OPEN
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
    save(session, callback)
    detail: dict[str, Any] = {"attempt_id": attempt.id, "status": callback.status}
    if automatic:
        detail["automatic"] = True
    kind = f"outcome-{outcome}"
    if replacing is not None:
        detail["replaced"] = replaced
        if replaced_source != "twilio":
            # A person correcting a person's word: the history shows both outcomes.
            kind = "outcome-corrected"
            detail["outcome"] = outcome
    event(session, callback, kind, actor, now, **detail)
    if note and note.strip():
        add_note(session, callback, actor, note, now, author_account_id=author_account_id)
    return callback.status
