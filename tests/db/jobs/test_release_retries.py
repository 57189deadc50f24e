"""An attempt's outcome and the release-retries job: a retry waits its working hours and is
then assigned again; the last attempt, a wrong number or a conversation closes the callback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from callbacks import attempts, filing, staff_actions
from callbacks.job_results import Assigned, JobResult, Released
from callbacks.jobs import assign_callbacks, release_retries
from helpline.settings import Settings
from tests.constants import ANN, DAN, FRIDAY, MONDAY, PARENT, TUESDAY, london
from tests.db.jobs.helpers import events, holder, listed, new_callback
from tests.factories import Clock, adviser


@pytest.mark.parametrize(
    ("outcome_at", "retry_at"),
    [
        # One working hour left on Monday, the second from 09:00 on Tuesday.
        (london(MONDAY, 16), london(TUESDAY, 10)),
        # After closing on Monday: both hours on Tuesday morning.
        (london(MONDAY, 18), london(TUESDAY, 11)),
        # Friday closes at 16:30: half an hour on Friday, an hour and a half on Monday.
        (london(FRIDAY, 16), london(date(2026, 12, 7), 10, 30)),
        # Christmas Day and the Boxing Day substitute (Monday 28th) are bank holidays.
        (london(date(2026, 12, 24), 16), london(date(2026, 12, 29), 10)),
    ],
)
def test_no_answer_waits_two_working_hours_for_a_retry(
    session: Session, settings: Settings, outcome_at: datetime, retry_at: datetime
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", outcome_at.date())
    callback = new_callback(session, settings, PARENT, "herefordshire", outcome_at)
    staff_actions.assign(session, callback, ann, "Duty Officer", outcome_at)

    status = attempts.record_outcome(
        session, settings, callback, "no-answer", "Ann Ash", outcome_at
    )

    assert status == "open"
    assert callback.next_attempt_at == retry_at
    shown = listed(session, outcome_at, callback.id)
    assert shown["next_attempt_at"] == retry_at.isoformat()
    assert (shown["assigned_to"], shown["attempts"]) == (None, 1)


def test_a_retry_is_released_at_its_time_and_assigned_again(
    session: Session, settings: Settings, run: Callable[..., JobResult]
) -> None:
    monday_4pm = london(MONDAY, 16)
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Dan Dale", DAN, "herefordshire", TUESDAY)
    callback = new_callback(session, settings, PARENT, "herefordshire", london(MONDAY, 10))
    staff_actions.assign(session, callback, ann, "Duty Officer", monday_4pm)
    attempts.start_attempt(session, callback, ann, "Ann Ash", monday_4pm)
    attempts.record_outcome(session, settings, callback, "no-answer", "Ann Ash", monday_4pm)
    assert callback.next_attempt_at == london(TUESDAY, 10)

    too_soon = london(TUESDAY, 9, 59)
    assert run(release_retries, too_soon) == Released(released=0)
    assert run(assign_callbacks, too_soon) == Assigned(waiting=0, assigned=0)
    assert callback.next_attempt_at == london(TUESDAY, 10)
    assert holder(session, callback) is None

    assert run(release_retries, london(TUESDAY, 10)) == Released(released=1)
    assert callback.next_attempt_at is None
    assert [e.actor for e in events(session, callback, "retry-due")] == ["scheduler"]
    assert listed(session, london(TUESDAY, 10), callback.id)["next_attempt_at"] is None

    assert run(assign_callbacks, london(TUESDAY, 10)) == Assigned(waiting=1, assigned=1)
    assert holder(session, callback) == "Dan Dale"


def test_the_last_attempt_without_an_answer_makes_the_callback_unreachable(
    session: Session, settings: Settings, run: Callable[..., JobResult]
) -> None:
    assert settings.callbacks.max_attempts == 3
    callback = new_callback(session, settings, PARENT, "herefordshire", london(MONDAY, 10))

    first = london(MONDAY, 16)
    assert attempts.record_outcome(session, settings, callback, "no-answer", "Ann", first) == "open"
    second = callback.next_attempt_at
    assert second == london(TUESDAY, 10)
    run(release_retries, second)
    assert (
        attempts.record_outcome(session, settings, callback, "left-message", "Ann", second)
        == "open"
    )
    third = callback.next_attempt_at
    assert third == london(TUESDAY, 12)
    run(release_retries, third)
    assert (
        attempts.record_outcome(session, settings, callback, "no-answer", "Ann", third)
        == "unreachable"
    )

    shown = listed(session, third, callback.id)
    assert (shown["status"], shown["attempts"], shown["next_attempt_at"]) == (
        "unreachable",
        3,
        None,
    )
    assert callback.closed_at == third
    # Nothing brings it back into the queue.
    adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)
    assert run(assign_callbacks, london(TUESDAY, 16)) == Assigned(waiting=0, assigned=0)


@pytest.mark.parametrize(
    ("outcome", "status"), [("wrong-number", "unreachable"), ("spoke", "completed")]
)
def test_a_wrong_number_or_a_conversation_closes_the_callback_at_once(
    session: Session, settings: Settings, clock: Clock, outcome: str, status: str
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())

    assert attempts.record_outcome(session, settings, callback, outcome, "Ann", clock()) == status

    shown = listed(session, clock(), callback.id)
    assert (shown["status"], shown["attempts"], shown["next_attempt_at"]) == (status, 1, None)
    # The caller's next message makes a new callback rather than joining the closed one.
    again, created = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    assert created
    assert again.id != callback.id
