"""An attempt's two phones as Twilio reports them: the adviser's, rung first, then the parent's.

What Twilio says of each phone becomes the attempt's state here; an outcome that counts against
the callback goes through `callbacks.attempts.record_outcome`. Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from callbacks import attempts, common
from callbacks.models import Attempt
from callbacks.states import OPEN_STATUSES, AttemptOutcome, CallbackStatus
from calls.states import TERMINAL, TwilioCallStatus
from helpline.settings import Settings


def awaits_outcome(attempt: Attempt) -> bool:
    """Whether the attempt can still ring the parent: it has no outcome, its callback is open."""
    return attempt.outcome is None and attempt.callback.status in OPEN_STATUSES


def ring_parent(session: Session, attempt: Attempt, now: datetime) -> str | None:
    """The adviser pressed 1: the parent's number to dial, the attempt marked as dialling them;
    None when this attempt can no longer call the parent (closed, superseded, no number)."""
    callback = attempt.callback
    latest = callback.attempts[-1] if callback.attempts else None
    if not awaits_outcome(attempt) or callback.phone is None or latest is not attempt:
        return None
    attempt.parent_status = "dialling"  # until the dial's action says how the parent's leg ended
    common.event(session, callback, "parent-dialled", "service", now, attempt_id=attempt.id)
    return callback.phone


class ParentLegEnd(Enum):
    """What the end of the parent's leg made of the attempt."""

    TALKED = "talked"  # the parent answered: the adviser's outcome follows
    GONE = "gone"  # the attempt already had an outcome, or the callback was closed
    ADVISER_CANCELLED = "adviser-cancelled"  # the adviser hung up before the parent answered
    RETRY = "retry"  # no answer: the callback waits for another attempt
    GIVEN_UP = "given-up"  # no answer on the last attempt: the callback is unreachable


def parent_leg_ended(
    session: Session,
    settings: Settings,
    attempt: Attempt,
    dial_status: str,
    seconds: int,
    now: datetime,
) -> ParentLegEnd:
    """The parent's leg ended with Twilio's `dial_status` ('' when it gave none) after
    `seconds`: keep it, and record no answer as the attempt's outcome."""
    status = dial_status or "failed"
    attempt.parent_status = status
    attempt.parent_seconds = seconds
    callback = attempt.callback
    if status == TwilioCallStatus.COMPLETED:
        return ParentLegEnd.TALKED
    if not awaits_outcome(attempt):
        return ParentLegEnd.GONE
    if status == TwilioCallStatus.CANCELED:
        # The adviser hung up before the parent answered: not the parent's missed call.
        attempt.outcome = AttemptOutcome.ADVISER_CANCELLED
        attempt.ended_at = now
        common.event(session, callback, "adviser-cancelled", "service", now, attempt_id=attempt.id)
        return ParentLegEnd.ADVISER_CANCELLED
    new_status = attempts.record_outcome(
        session,
        settings,
        callback,
        AttemptOutcome.NO_ANSWER,
        "service",
        now,
        note=f"the parent's phone gave '{status}'",
        automatic=True,
    )
    return ParentLegEnd.GIVEN_UP if new_status == CallbackStatus.UNREACHABLE else ParentLegEnd.RETRY


def adviser_leg_status(
    session: Session, attempt: Attempt, status: str, call_sid: str | None, now: datetime
) -> None:
    """Twilio's `status` of the call that rang the adviser ('' when it gave none: ignored);
    its end ends the attempt, and an adviser who never answered ends it without an outcome
    that counts."""
    if not status:
        return
    if attempt.call_sid is None and call_sid:
        attempt.call_sid = call_sid
    attempt.adviser_status = status
    if status in TERMINAL and attempt.ended_at is None:
        attempt.ended_at = now
        if attempt.parent_status is None and attempt.outcome is None:
            # The parent was never dialled (the adviser's phone did not answer, or its voicemail
            # did and pressed nothing): this try does not count against the callback's attempts.
            # Once the parent is dialled, the dial's action records what happened, in whatever
            # order.
            attempt.outcome = AttemptOutcome.ADVISER_MISSED
            common.event(
                session,
                attempt.callback,
                "adviser-missed",
                "service",
                now,
                attempt_id=attempt.id,
                status=status,
            )
