"""The warn-deadlines job: the duty officer is warned, in working hours, before a first attempt
is due, and again once it is overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.orm import Session

from callbacks import attempts, clocks, staff_actions
from callbacks.job_results import JobResult, Warned
from callbacks.jobs import warn_deadlines
from callbacks.listing import QueueFilter, queue
from callbacks.models import DeadlineWarning
from helpline.settings import Settings
from rota import service as rota
from tests.constants import ANN, MONDAY, OTHER_PARENT, PARENT, TUESDAY, WEDNESDAY, london
from tests.db.jobs.helpers import events, listed, new_callback, warnings_of
from tests.factories import Clock, adviser


def test_duty_officer_is_warned_once_before_and_once_after_the_deadline(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    assert callback.due_at == london(WEDNESDAY, 10)  # two working days
    assert settings.callbacks.warn_before_hours == 4

    # Four working hours before Wednesday 10:00 is Tuesday 14:00 (three hours on Tuesday
    # afternoon, one on Wednesday morning), not 06:00 on Wednesday when nobody is at work.
    assert run(warn_deadlines, london(TUESDAY, 13, 59)) == Warned(raised=0)
    assert warnings_of(session, callback) == []

    assert run(warn_deadlines, london(TUESDAY, 14)) == Warned(raised=1)
    assert run(warn_deadlines, london(WEDNESDAY, 7, 5)) == Warned(raised=0)
    assert warnings_of(session, callback) == ["due-soon"]
    assert listed(session, london(WEDNESDAY, 7, 5), callback.id)["warning"] == "due-soon"

    past = london(WEDNESDAY, 10, 1)
    assert run(warn_deadlines, past) == Warned(raised=1)
    assert run(warn_deadlines, past + timedelta(minutes=5)) == Warned(raised=0)
    assert warnings_of(session, callback) == ["due-soon", "overdue"]
    assert listed(session, past, callback.id)["warning"] == "overdue"
    assert [e.actor for e in events(session, callback, "warning-overdue")] == ["scheduler"]


def test_a_callback_already_attempted_gets_no_deadline_warning(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    attempted = new_callback(session, settings, PARENT, "herefordshire", clock())
    untouched = new_callback(session, settings, OTHER_PARENT, "worcestershire", clock())
    attempt = attempts.start_attempt(session, attempted, ann, "Ann Ash", clock())
    attempts.placed(attempt, None)  # Twilio took the call
    attempts.record_outcome(session, settings, attempted, "no-answer", "Ann Ash", clock())
    past = london(WEDNESDAY, 12)

    assert run(warn_deadlines, past) == Warned(raised=1)

    assert warnings_of(session, attempted) == []
    assert warnings_of(session, untouched) == ["overdue"]
    assert listed(session, past, attempted.id)["warning"] is None
    assert listed(session, past, untouched.id)["warning"] == "overdue"


def test_an_attempt_only_logged_is_no_first_attempt_and_the_callback_is_still_warned_of(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    logged = new_callback(session, settings, PARENT, "herefordshire", clock())
    attempts.start_attempt(session, logged, ann, "Ann Ash", clock())  # no Twilio: not placed
    attempts.record_outcome(session, settings, logged, "no-answer", "Ann Ash", clock())
    past = london(WEDNESDAY, 12)

    assert run(warn_deadlines, past) == Warned(raised=1)

    assert warnings_of(session, logged) == ["overdue"]
    assert listed(session, past, logged.id)["warning"] == "overdue"
    overdue = queue(session, settings, past, QueueFilter(overdue=True), show_numbers=True)
    assert [row.callback_id for row in overdue] == [logged.id]
    assert overdue[0].deadline.overdue  # as the callback's row and the statistics count it


def test_a_closed_callback_gets_no_deadline_warning(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    staff_actions.close(session, callback, "rang again and was helped", "Duty Officer", clock())

    assert run(warn_deadlines, london(WEDNESDAY, 12)) == Warned(raised=0)
    assert warnings_of(session, callback) == []


def test_a_monday_morning_deadline_is_flagged_on_friday_afternoon(
    session: Session, settings: Settings, run: Callable[..., JobResult]
) -> None:
    # A message on Thursday 3 December at 09:30 is due Monday 7 December at 09:30.
    callback = new_callback(
        session, settings, PARENT, "herefordshire", london(date(2026, 12, 3), 9, 30)
    )
    assert callback.due_at == london(date(2026, 12, 7), 9, 30)
    friday = date(2026, 12, 4)
    # Friday closes at 16:30: 3.5 working hours from 13:00, plus half an hour on Monday.
    assert run(warn_deadlines, london(friday, 12, 59)) == Warned(raised=0)
    assert run(warn_deadlines, london(friday, 13, 0)) == Warned(raised=1)
    assert warnings_of(session, callback) == ["due-soon"]


def test_closing_an_office_until_further_notice_does_not_make_a_distant_deadline_due_soon(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    assert callback.due_at == london(WEDNESDAY, 10)
    rota.close_office(session, settings, "herefordshire", clock())
    session.flush()

    # With no working time in sight the deadline is counted in plain time: two days away.
    assert run(warn_deadlines, clock()) == Warned(raised=0)
    assert warnings_of(session, callback) == []
    assert listed(session, clock(), callback.id)["warning"] is None

    # Still closed on Wednesday morning, four hours before the deadline: now it is due soon.
    assert run(warn_deadlines, london(WEDNESDAY, 6)) == Warned(raised=1)
    assert warnings_of(session, callback) == ["due-soon"]


def test_a_warning_that_no_longer_holds_is_withdrawn_when_the_job_runs(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    # A due-soon warning recorded while the office was closed, 48 working hours out.
    session.add(DeadlineWarning(callback_id=callback.id, kind="due-soon", created_at=clock()))
    session.flush()
    session.refresh(callback)
    assert listed(session, clock(), callback.id)["warning"] == "due-soon"

    assert run(warn_deadlines, clock()) == Warned(raised=0)

    assert warnings_of(session, callback) == []
    assert listed(session, clock(), callback.id)["warning"] is None
    assert len(events(session, callback, "warning-due-soon-withdrawn")) == 1
    # When the deadline is near again, the warning comes back.
    assert run(warn_deadlines, london(TUESDAY, 14)) == Warned(raised=1)
    assert warnings_of(session, callback) == ["due-soon"]


def test_reopening_the_office_withdraws_a_due_soon_warning_it_makes_untrue(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    rota.close_office(session, settings, "herefordshire", clock(), until=london(TUESDAY, 17))
    session.flush()
    # Closed all Tuesday: one working hour is left, on Wednesday morning.
    assert run(warn_deadlines, london(TUESDAY, 8)) == Warned(raised=1)
    assert listed(session, london(TUESDAY, 8), callback.id)["warning"] == "due-soon"

    clocks.reopen_office(session, settings, "herefordshire", london(TUESDAY, 9))

    # Open from 09:00: nine working hours are left, so the warning no longer holds.
    session.refresh(callback)
    assert warnings_of(session, callback) == []
    assert listed(session, london(TUESDAY, 9), callback.id)["warning"] is None
    assert [e.actor for e in events(session, callback, "warning-due-soon-withdrawn")] == ["service"]
