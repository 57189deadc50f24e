"""A person's outcome while the callback waits for its retry is about the attempt already made:
it corrects that attempt's outcome and never counts another, so a slip of the keyboard cannot use
up a parent's attempts. Once the retry time has come, a word with no attempt started is a new
attempt (made from a desk phone, say)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import attempts, filing
from callbacks.models import Callback, CallbackEvent
from helpline.settings import Settings
from tests.factories import Clock, adviser

PARENT = "+447700900123"


def a_callback(session: Session, settings: Settings, clock: Clock) -> Callback:
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    return callback


def outcomes(callback: Callback) -> list[str | None]:
    return [a.outcome for a in callback.attempts]


def kinds(session: Session, callback: Callback) -> list[tuple[str, dict[str, object]]]:
    session.flush()
    events = session.scalars(
        select(CallbackEvent)
        .where(CallbackEvent.callback_id == callback.id, CallbackEvent.kind.like("outcome-%"))
        .order_by(CallbackEvent.id)
    )
    return [(e.kind, e.detail) for e in events]


def test_a_second_word_while_the_retry_waits_corrects_the_attempt_and_keeps_the_retry(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", "+447700900001", "herefordshire", date(2026, 11, 30))
    callback = a_callback(session, settings, clock)
    attempt = attempts.start_attempt(session, callback, alex, "Alex Adams", clock())
    assert attempts.record_outcome(session, settings, callback, "no-answer", "Alex", clock()) == (
        "open"
    )
    retry = callback.next_attempt_at
    clock.advance(seconds=30)

    status = attempts.record_outcome(
        session, settings, callback, "left-message", "Alex", clock(), note="correction"
    )

    assert status == "open"
    assert outcomes(callback) == ["left-message"]
    assert attempts.counted_attempts(callback) == 1
    assert callback.next_attempt_at == retry
    assert kinds(session, callback)[-1] == (
        "outcome-corrected",
        {
            "attempt_id": attempt.id,
            "status": "open",
            "replaced": "no-answer",
            "outcome": "left-message",
        },
    )


def test_three_quick_words_on_a_desk_phone_call_are_one_attempt(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback = a_callback(session, settings, clock)

    for _ in range(3):
        status = attempts.record_outcome(session, settings, callback, "no-answer", "cli", clock())
        assert status == "open"
        clock.advance(seconds=2)

    assert outcomes(callback) == ["no-answer"]
    assert attempts.counted_attempts(callback) == 1
    assert callback.next_attempt_at is not None


def test_a_correction_to_spoke_completes_and_to_wrong_number_closes_on_the_same_attempt(
    session: Session, settings: Settings, clock: Clock
) -> None:
    spoke = a_callback(session, settings, clock)
    attempts.record_outcome(session, settings, spoke, "left-message", "cli", clock())

    assert attempts.record_outcome(session, settings, spoke, "spoke", "cli", clock()) == (
        "completed"
    )
    assert (outcomes(spoke), spoke.next_attempt_at) == (["spoke"], None)

    wrong, _ = filing.callback_for(session, settings, "+447700900456", "herefordshire", clock())
    attempts.record_outcome(session, settings, wrong, "no-answer", "cli", clock())

    assert attempts.record_outcome(session, settings, wrong, "wrong-number", "cli", clock()) == (
        "unreachable"
    )
    assert outcomes(wrong) == ["wrong-number"]
    assert attempts.counted_attempts(wrong) == 1


def test_once_the_retry_time_has_come_a_word_is_a_new_attempt(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback = a_callback(session, settings, clock)
    attempts.record_outcome(session, settings, callback, "no-answer", "cli", clock())
    assert callback.next_attempt_at is not None
    clock.set(callback.next_attempt_at)

    assert attempts.record_outcome(session, settings, callback, "left-message", "cli", clock()) == (
        "open"
    )

    assert outcomes(callback) == ["no-answer", "left-message"]
    assert attempts.counted_attempts(callback) == 2
    assert kinds(session, callback)[-1][0] == "outcome-left-message"
