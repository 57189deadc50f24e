"""The scheduler's jobs as the duty officer and advisers see their effects on the queue."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import helpline.migrations.models  # noqa: F401 - every table in Base.metadata for the clean-up
from callbacks import attempts, clocks, common, filing, staff_actions
from callbacks.jobkit import Runner, in_transaction
from callbacks.jobs import (
    JobContext,
    assign_callbacks,
    delete_recordings,
    reconcile_recordings,
    release_retries,
    return_to_pool,
    start_clocks,
    warn_deadlines,
)
from callbacks.messages import record_message
from callbacks.models import Callback, CallbackEvent, DeadlineWarning, Message
from callbacks.report import list_callbacks
from calls import service as calls
from calls.models import Call
from calls.report import recent_calls
from helpline.db import Base
from helpline.dialer import CallInfo, DialerError, LoggingDialer, RecordingInfo
from helpline.runtime import Runtime
from helpline.scheduler import last_runs, run_job
from helpline.settings import Settings
from rota import service as rota
from rota.models import Adviser, Shift
from tests.constants import (
    ACCOUNT,
    ANN,
    API,
    BEN,
    CAT,
    DAN,
    HEREFORD,
    LONDON,
    OTHER_PARENT,
    PARENT,
    RECORDINGS_URL,
    WORCS,
    london,
    parent,
)
from tests.factories import Clock, adviser, shift
from webhooks.twilio_dialer import TwilioDialer

MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)
FRIDAY = date(2026, 12, 4)

Job = Callable[[Session, JobContext, datetime], str] | Runner


@pytest.fixture
def run(
    sessions: sessionmaker[Session], session: Session, settings: Settings
) -> Callable[..., str]:
    """Run a job in a session of its own, as the scheduler does, then let the test look again."""

    def run_once(
        job: Job,
        now: datetime,
        *,
        with_settings: Settings | None = None,
        dialer: Any = None,
    ) -> str:
        session.flush()
        ctx = JobContext(with_settings or settings, dialer or LoggingDialer())
        # The jobs that call Twilio open their own transactions; the others get one.
        runner = job if job in (reconcile_recordings, delete_recordings) else in_transaction(job)
        summary = runner(sessions, ctx, now)
        session.expire_all()
        return summary

    return run_once


def new_callback(
    session: Session, settings: Settings, phone: str, office: str, now: datetime
) -> Callback:
    callback, created = filing.callback_for(session, settings, phone, office, now)
    assert created
    return callback


def holder(session: Session, callback: Callback) -> str | None:
    session.refresh(callback)
    return callback.assigned_to.name if callback.assigned_to else None


def listed(session: Session, now: datetime, callback_id: int) -> dict[str, Any]:
    """The callback as `helpline callbacks list --json` shows it."""
    return next(c for c in list_callbacks(session, now) if c["id"] == callback_id)


def events(session: Session, callback: Callback, kind: str) -> list[CallbackEvent]:
    return list(
        session.scalars(
            select(CallbackEvent)
            .where(CallbackEvent.callback_id == callback.id, CallbackEvent.kind == kind)
            .order_by(CallbackEvent.id)
        )
    )


def with_policy(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(
        settings, callbacks=dataclasses.replace(settings.callbacks, **changes)
    )


# --- assign-callbacks ---------------------------------------------------------------------


def test_own_county_adviser_gets_the_callback_first(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    hereford = new_callback(session, settings, parent(1), "herefordshire", clock())
    worcs = new_callback(session, settings, parent(2), "worcestershire", clock())

    summary = run(assign_callbacks, clock())

    assert summary == "assigned 2 of 2 waiting callback(s)"
    assert holder(session, hereford) == "Ann Ash"
    assert holder(session, worcs) == "Cat Cedar"
    assert listed(session, clock(), hereford.id)["status"] == "assigned"
    assert listed(session, clock(), hereford.id)["assigned_to"] == "Ann Ash"


def test_partner_team_takes_a_callback_when_no_own_adviser_is_on_shift(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    run(assign_callbacks, clock())

    assert holder(session, callback) == "Cat Cedar"


@pytest.mark.parametrize(
    ("ann_holds", "cat_holds", "expected"),
    [
        (1, 1, "Ann Ash"),  # equal load: the caller's own county keeps it
        (2, 2, "Ann Ash"),
        (2, 1, "Cat Cedar"),  # the partner's adviser has strictly fewer
        (3, 1, "Cat Cedar"),
    ],
)
def test_partner_team_takes_it_only_with_strictly_fewer_open_callbacks(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    ann_holds: int,
    cat_holds: int,
    expected: str,
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    cat = adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    earlier = clock() - timedelta(hours=1)
    for n in range(ann_holds):
        held = new_callback(session, settings, parent(10 + n), "herefordshire", earlier)
        staff_actions.assign(session, held, ann, "Duty Officer", earlier)
    for n in range(cat_holds):
        held = new_callback(session, settings, parent(20 + n), "worcestershire", earlier)
        staff_actions.assign(session, held, cat, "Duty Officer", earlier)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == "assigned 1 of 1 waiting callback(s)"

    assert holder(session, callback) == expected


def test_work_is_balanced_across_advisers_of_both_teams(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    waiting = [
        new_callback(session, settings, parent(n), "herefordshire", clock()) for n in range(6)
    ]

    assert run(assign_callbacks, clock()) == "assigned 6 of 6 waiting callback(s)"

    counts: dict[str | None, int] = {}
    for callback in waiting:
        name = holder(session, callback)
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"Ann Ash": 2, "Ben Birch": 2, "Cat Cedar": 2}


def test_nobody_gets_more_than_the_maximum_of_open_callbacks(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    lowered = with_policy(settings, max_open_per_adviser=2)
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    earlier = clock() - timedelta(hours=1)
    held = new_callback(session, settings, parent(0), "herefordshire", earlier)
    staff_actions.assign(session, held, ann, "Duty Officer", earlier)
    waiting = [
        new_callback(session, settings, parent(n), "herefordshire", clock()) for n in range(1, 5)
    ]

    summary = run(assign_callbacks, clock(), with_settings=lowered)

    # Ann already holds one, so she takes one more; Cat takes two; one waits in the pool.
    assert summary == "assigned 3 of 4 waiting callback(s)"
    holders = [holder(session, c) for c in waiting]
    assert holders.count("Ann Ash") == 1
    assert holders.count("Cat Cedar") == 2
    assert holders.count(None) == 1
    left = next(c for c in waiting if c.assigned_to_id is None)
    assert listed(session, clock(), left.id)["status"] == "open"


def test_an_adviser_whose_shift_is_about_to_end_gets_nothing(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    # Ann's shift ends at 10:20, within the 30 minutes the policy asks for.
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(10, 20))
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == "assigned 0 of 1 waiting callback(s)"
    assert holder(session, callback) is None

    # A colleague with the afternoon ahead of her does get it.
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    run(assign_callbacks, clock())
    assert holder(session, callback) == "Ben Birch"


def test_a_callback_waiting_for_its_retry_is_not_assigned(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())
    callback.next_attempt_at = clock() + timedelta(minutes=5)

    assert run(assign_callbacks, clock()) == "nothing to assign"
    assert holder(session, callback) is None

    run(assign_callbacks, clock() + timedelta(minutes=5))
    assert holder(session, callback) == "Ann Ash"
    assert callback.next_attempt_at is None


def test_the_most_urgent_callback_goes_first_when_capacity_is_short(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    lowered = with_policy(settings, max_open_per_adviser=1)
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    later = new_callback(session, settings, parent(1), "herefordshire", clock())
    # Made second, but from a message that arrived half an hour earlier: due sooner.
    sooner = new_callback(
        session, settings, parent(2), "herefordshire", clock() - timedelta(minutes=30)
    )
    assert sooner.due_at < later.due_at

    assert run(assign_callbacks, clock(), with_settings=lowered) == (
        "assigned 1 of 2 waiting callback(s)"
    )

    assert holder(session, sooner) == "Ann Ash"
    assert holder(session, later) is None


def test_callbacks_stay_open_when_nobody_is_on_shift(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)  # not today
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == "assigned 0 of 1 waiting callback(s)"

    shown = listed(session, clock(), callback.id)
    assert (shown["status"], shown["assigned_to"]) == ("open", None)
    assert events(session, callback, "assigned") == []


def test_each_assignment_is_kept_as_an_event_by_the_scheduler(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    run(assign_callbacks, clock())

    [assigned] = events(session, callback, "assigned")
    assert assigned.actor == "scheduler"
    assert assigned.at == clock()
    assert assigned.detail["adviser_id"] == ann.id
    # Running again does not assign it a second time.
    assert run(assign_callbacks, clock() + timedelta(minutes=1)) == "nothing to assign"
    assert len(events(session, callback, "assigned")) == 1


# --- return-to-pool -----------------------------------------------------------------------


def test_work_returns_to_the_pool_when_the_shift_ends(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(12))
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY, time(9), time(17))
    anns = new_callback(session, settings, parent(1), "herefordshire", clock())
    bens = new_callback(session, settings, parent(2), "herefordshire", clock())
    run(assign_callbacks, clock())
    assert (holder(session, anns), holder(session, bens)) == ("Ann Ash", "Ben Birch")

    assert run(return_to_pool, london(MONDAY, 11, 59)) == "returned 0 callback(s) to the pool"
    assert holder(session, anns) == "Ann Ash"

    after_shift = london(MONDAY, 12, 1)
    assert run(return_to_pool, after_shift) == "returned 1 callback(s) to the pool"

    shown = listed(session, after_shift, anns.id)
    assert (shown["status"], shown["assigned_to"]) == ("open", None)
    assert holder(session, bens) == "Ben Birch"
    [returned] = events(session, anns, "returned-to-pool")
    assert (returned.actor, returned.detail["reason"]) == ("scheduler", "shift ended")


def test_a_callback_being_called_back_is_not_returned_to_the_pool(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(12))
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())
    run(assign_callbacks, clock())
    attempts.start_attempt(session, callback, ann, "Ann Ash", london(MONDAY, 11, 50))

    assert run(return_to_pool, london(MONDAY, 12, 10)) == "returned 0 callback(s) to the pool"
    assert holder(session, callback) == "Ann Ash"

    # An attempt with no outcome an hour later is taken to have been abandoned.
    assert run(return_to_pool, london(MONDAY, 13)) == "returned 1 callback(s) to the pool"
    assert holder(session, callback) is None


@pytest.mark.parametrize(
    ("works_monday_morning", "assigned_at"),
    [(False, london(MONDAY, 10)), (True, london(MONDAY, 14))],
    ids=["first shift tomorrow", "assigned after the day's shift ended"],
)
def test_work_given_to_an_adviser_off_shift_stays_theirs_until_their_next_shift_ends(
    session: Session,
    settings: Settings,
    run: Callable[..., str],
    works_monday_morning: bool,
    assigned_at: datetime,
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)
    if works_monday_morning:
        shift(session, ann, "herefordshire", MONDAY, time(9), time(12))
    callback = new_callback(session, settings, parent(1), "herefordshire", assigned_at)
    staff_actions.assign(session, callback, ann, "Duty Officer", assigned_at)

    # The duty officer's choice stands overnight and through Ann's next shift...
    for later in (assigned_at + timedelta(minutes=1), london(TUESDAY, 8), london(TUESDAY, 16)):
        assert run(return_to_pool, later) == "returned 0 callback(s) to the pool"
        assert holder(session, callback) == "Ann Ash"

    # ...and ends when that shift does.
    assert run(return_to_pool, london(TUESDAY, 17, 1)) == "returned 1 callback(s) to the pool"
    assert holder(session, callback) is None


def test_assigning_to_an_adviser_off_shift_is_allowed_with_a_warning(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)
    ben = adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    first = new_callback(session, settings, parent(1), "herefordshire", clock())
    second = new_callback(session, settings, parent(2), "herefordshire", clock())

    off = staff_actions.assign(session, first, ann, "Duty Officer", clock())
    on = staff_actions.assign(session, second, ben, "Duty Officer", clock())

    assert on is None
    assert off is not None
    assert (off.adviser, off.until) == ("Ann Ash", london(TUESDAY, 17))
    assert off.warning(LONDON) == (
        "Ann Ash is not on shift now; the callback stays with them until their next shift "
        "ends (Tuesday 1 December 17:00)."
    )
    assert holder(session, first) == "Ann Ash"
    [assigned] = events(session, first, "assigned")
    assert assigned.detail["off_shift"] is True


# --- release-retries and outcomes ---------------------------------------------------------


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
    session: Session, settings: Settings, run: Callable[..., str]
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
    assert run(release_retries, too_soon) == "released 0 retries"
    assert run(assign_callbacks, too_soon) == "nothing to assign"
    assert callback.next_attempt_at == london(TUESDAY, 10)
    assert holder(session, callback) is None

    assert run(release_retries, london(TUESDAY, 10)) == "released 1 retry"
    assert callback.next_attempt_at is None
    assert [e.actor for e in events(session, callback, "retry-due")] == ["scheduler"]
    assert listed(session, london(TUESDAY, 10), callback.id)["next_attempt_at"] is None

    assert run(assign_callbacks, london(TUESDAY, 10)) == "assigned 1 of 1 waiting callback(s)"
    assert holder(session, callback) == "Dan Dale"


def test_the_last_attempt_without_an_answer_makes_the_callback_unreachable(
    session: Session, settings: Settings, run: Callable[..., str]
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
    assert run(assign_callbacks, london(TUESDAY, 16)) == "nothing to assign"


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


# --- warn-deadlines -----------------------------------------------------------------------


def warnings_of(session: Session, callback: Callback) -> list[str]:
    return list(
        session.scalars(
            select(DeadlineWarning.kind)
            .where(DeadlineWarning.callback_id == callback.id)
            .order_by(DeadlineWarning.id)
        )
    )


def test_duty_officer_is_warned_once_before_and_once_after_the_deadline(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    assert callback.due_at == london(WEDNESDAY, 10)  # two working days
    assert settings.callbacks.warn_before_hours == 4

    # Four working hours before Wednesday 10:00 is Tuesday 14:00 (three hours on Tuesday
    # afternoon, one on Wednesday morning), not 06:00 on Wednesday when nobody is at work.
    assert run(warn_deadlines, london(TUESDAY, 13, 59)) == "raised 0 deadline warning(s)"
    assert warnings_of(session, callback) == []

    assert run(warn_deadlines, london(TUESDAY, 14)) == "raised 1 deadline warning(s)"
    assert run(warn_deadlines, london(WEDNESDAY, 7, 5)) == "raised 0 deadline warning(s)"
    assert warnings_of(session, callback) == ["due-soon"]
    assert listed(session, london(WEDNESDAY, 7, 5), callback.id)["warning"] == "due-soon"

    past = london(WEDNESDAY, 10, 1)
    assert run(warn_deadlines, past) == "raised 1 deadline warning(s)"
    assert run(warn_deadlines, past + timedelta(minutes=5)) == "raised 0 deadline warning(s)"
    assert warnings_of(session, callback) == ["due-soon", "overdue"]
    assert listed(session, past, callback.id)["warning"] == "overdue"
    assert [e.actor for e in events(session, callback, "warning-overdue")] == ["scheduler"]


def test_a_callback_already_attempted_gets_no_deadline_warning(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    attempted = new_callback(session, settings, PARENT, "herefordshire", clock())
    untouched = new_callback(session, settings, OTHER_PARENT, "worcestershire", clock())
    attempts.record_outcome(session, settings, attempted, "no-answer", "Ann", london(TUESDAY, 16))
    past = london(WEDNESDAY, 12)

    assert run(warn_deadlines, past) == "raised 1 deadline warning(s)"

    assert warnings_of(session, attempted) == []
    assert warnings_of(session, untouched) == ["overdue"]
    assert listed(session, past, attempted.id)["warning"] is None
    assert listed(session, past, untouched.id)["warning"] == "overdue"


def test_a_closed_callback_gets_no_deadline_warning(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    staff_actions.close(session, callback, "rang again and was helped", "Duty Officer", clock())

    assert run(warn_deadlines, london(WEDNESDAY, 12)) == "raised 0 deadline warning(s)"
    assert warnings_of(session, callback) == []


# --- an office with no opening in sight ----------------------------------------------------


def close_until_further_notice(
    session: Session, settings: Settings, office: str, at: datetime
) -> None:
    rota.close_office(session, settings, office, at)
    session.flush()


def test_callbacks_with_no_deadline_are_assigned_after_those_with_one(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    adviser(session, "Ann Ash", ANN, "worcestershire", MONDAY)
    undated = new_callback(session, settings, parent(1), "herefordshire", clock())
    dated = new_callback(session, settings, parent(2), "worcestershire", clock())
    assert (undated.due_at, dated.due_at) == (None, london(WEDNESDAY, 10))

    one_each = with_policy(settings, max_open_per_adviser=1)
    assert run(assign_callbacks, clock(), with_settings=one_each) == (
        "assigned 1 of 2 waiting callback(s)"
    )
    assert (holder(session, dated), holder(session, undated)) == ("Ann Ash", None)

    # With room, the callback with no deadline is assigned too.
    assert run(assign_callbacks, clock()) == "assigned 1 of 1 waiting callback(s)"
    assert holder(session, undated) == "Ann Ash"


def test_a_callback_with_no_deadline_is_listed_last_and_never_warned_of(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    undated = new_callback(session, settings, parent(1), "herefordshire", clock())
    dated = new_callback(session, settings, parent(2), "worcestershire", clock())
    past = london(date(2026, 12, 14), 12)  # long after Worcestershire's deadline

    assert run(warn_deadlines, past) == "raised 1 deadline warning(s)"

    assert warnings_of(session, undated) == []
    assert [c["id"] for c in list_callbacks(session, past)] == [dated.id, undated.id]
    shown = listed(session, past, undated.id)
    assert (shown["due_at"], shown["warning"], shown["status"]) == (None, None, "open")


def test_a_retry_for_an_office_with_no_opening_in_sight_waits_plain_hours(
    session: Session, settings: Settings, clock: Clock
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    callback = new_callback(session, settings, PARENT, "herefordshire", clock())
    evening = london(MONDAY, 19)

    status = attempts.record_outcome(session, settings, callback, "no-answer", "Ann Ash", evening)

    assert status == "open"
    assert settings.callbacks.retry_spacing_working_hours == 2
    assert listed(session, evening, callback.id)["next_attempt_at"] == (
        london(MONDAY, 21).isoformat()
    )


@pytest.mark.parametrize(
    ("reopened", "due"),
    [
        # Reopened in hours: the clock starts at once; two working days on is Thursday 14:00.
        (london(TUESDAY, 14), london(date(2026, 12, 3), 14)),
        # Reopened in the evening: the clock starts at Wednesday's opening.
        (london(TUESDAY, 19), london(FRIDAY, 9)),
    ],
)
def test_reopening_the_office_starts_the_clock_of_its_waiting_callbacks(
    session: Session, settings: Settings, clock: Clock, reopened: datetime, due: datetime
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    waiting = new_callback(session, settings, PARENT, "herefordshire", clock())
    other = new_callback(session, settings, OTHER_PARENT, "worcestershire", clock())
    assert (waiting.due_at, other.due_at) == (None, london(WEDNESDAY, 10))

    assert clocks.reopen_office(session, settings, "herefordshire", reopened) == (1, 1)

    assert listed(session, reopened, waiting.id)["due_at"] == due.isoformat()
    assert listed(session, reopened, other.id)["due_at"] == london(WEDNESDAY, 10).isoformat()
    [started] = events(session, waiting, "clock-started")
    assert started.at == reopened
    # Reopening again changes nothing.
    assert clocks.reopen_office(session, settings, "herefordshire", reopened) == (0, 0)


def test_start_clocks_gives_a_deadline_once_the_office_has_an_opening_in_sight(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., str]
) -> None:
    office = dataclasses.replace(settings.offices["herefordshire"], hours={})
    no_hours = dataclasses.replace(settings, offices={**settings.offices, "herefordshire": office})
    waiting = new_callback(session, no_hours, PARENT, "herefordshire", clock())
    assert waiting.due_at is None
    assert run(start_clocks, clock(), with_settings=no_hours) == (
        "started the clock of 0 callback(s); 1 still wait for an opening"
    )
    assert run(start_clocks, clock()) == (
        "started the clock of 1 callback(s); 0 still wait for an opening"
    )
    session.refresh(waiting)
    assert waiting.due_at == london(WEDNESDAY, 10)

    # Closed until further notice, then reopened by a path that starts no clock itself.
    close_until_further_notice(session, settings, "herefordshire", clock())
    closed = new_callback(session, settings, OTHER_PARENT, "herefordshire", clock())
    assert run(start_clocks, london(MONDAY, 11)) == (
        "started the clock of 0 callback(s); 1 still wait for an opening"
    )
    rota.open_office(session, settings, "herefordshire", london(MONDAY, 12))
    assert run(start_clocks, london(MONDAY, 12, 5)) == (
        "started the clock of 1 callback(s); 0 still wait for an opening"
    )
    assert listed(session, london(MONDAY, 12, 5), closed.id)["due_at"] == (
        london(WEDNESDAY, 12, 5).isoformat()
    )
    assert run(start_clocks, london(MONDAY, 12, 10)) == "no callback waits for an opening"


# --- reconcile-recordings -----------------------------------------------------------------

LOST_CALL = "CA" + "1" * 32
LOST_RECORDING = "RE" + "1" * 32


def recording(sid: str, call_sid: str, duration: str = "42") -> dict[str, Any]:
    return {
        "sid": sid,
        "call_sid": call_sid,
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "duration": duration,
        "date_created": "Mon, 30 Nov 2026 09:30:00 +0000",
        "date_updated": "Mon, 30 Nov 2026 09:30:45 +0000",
        "start_time": "Mon, 30 Nov 2026 09:29:58 +0000",
        "status": "completed",
        "channels": 1,
        "source": "RecordVerb",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}.json",
    }


def recordings_page(*items: dict[str, Any]) -> dict[str, Any]:
    uri = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings.json?PageSize=100&Page=0"
    return {
        "recordings": list(items),
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": 100,
        "start": 0,
        "end": max(len(items) - 1, 0),
        "uri": uri,
    }


def twilio_call(sid: str, from_: str, to: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "from": from_,
        "to": to,
        "direction": "inbound",
        "status": "completed",
        "start_time": "Mon, 30 Nov 2026 09:28:40 +0000",
        "end_time": "Mon, 30 Nov 2026 09:30:45 +0000",
        "duration": "125",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
    }


def test_a_message_whose_webhooks_were_lost_becomes_a_callback(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=twilio_call(LOST_CALL, PARENT, HEREFORD))

    summary = run(reconcile_recordings, clock(), dialer=twilio_dialer)

    assert summary == "checked 1 recording(s), recovered 1"
    # Twilio was asked for the last two days' recordings.
    assert "DateCreated%3E=2026-11-28T10%3A00%3A00Z" in twilio.calls[0].request.url
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"], shown["status"]) == (PARENT, "herefordshire", "open")
    assert shown["messages"] == [
        {
            "recording_sid": LOST_RECORDING,
            "duration_s": 42,
            "received_at": "2026-11-30T09:30:00+00:00",
        }
    ]
    # The promise runs from when the message was left, not from when it was found.
    assert shown["due_at"] == london(WEDNESDAY, 9, 30).isoformat()
    assert [c["sid"] for c in recent_calls(session)] == [LOST_CALL]


def test_reconciling_again_recovers_nothing_more(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=twilio_call(LOST_CALL, PARENT, HEREFORD))
    run(reconcile_recordings, clock(), dialer=twilio_dialer)

    summary = run(reconcile_recordings, clock() + timedelta(minutes=15), dialer=twilio_dialer)

    assert summary == "checked 1 recording(s), recovered 0"
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert session.scalar(select(func.count()).select_from(Callback)) == 1
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_recording_the_webhooks_delivered_is_skipped(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    received = london(MONDAY, 9, 30)
    calls.record_incoming(session, settings, LOST_CALL, PARENT, HEREFORD, received)
    record_message(
        session,
        settings,
        recording_sid=LOST_RECORDING,
        call_sid=LOST_CALL,
        duration_s=42,
        now=received,
    )
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        "checked 1 recording(s), recovered 0"
    )

    assert len(twilio.calls) == 1  # the list only: Twilio was not asked about the call
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert len(list_callbacks(session, clock())) == 1


def test_a_recording_whose_call_was_known_is_recovered_without_asking_twilio(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # The incoming webhook arrived (to Worcestershire's number); the recording callback did not.
    calls.record_incoming(session, settings, LOST_CALL, PARENT, WORCS, london(MONDAY, 9, 28))
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        "checked 1 recording(s), recovered 1"
    )

    assert len(twilio.calls) == 1
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"]) == (PARENT, "worcestershire")


def test_a_recording_of_a_call_not_to_the_helpline_is_skipped(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # A call back to a parent, placed from the helpline's number, that recorded something.
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=twilio_call(LOST_CALL, HEREFORD, PARENT))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        "checked 1 recording(s), recovered 0"
    )

    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert session.scalar(select(func.count()).select_from(Call)) == 0
    assert list_callbacks(session, clock()) == []


def test_a_recording_whose_call_twilio_no_longer_has_is_skipped(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(
        f"{API}/Calls/{LOST_CALL}.json",
        status=404,
        json={"code": 20404, "message": "The requested resource was not found", "status": 404},
    )

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        "checked 1 recording(s), recovered 0"
    )
    assert list_callbacks(session, clock()) == []


def test_an_empty_recording_is_not_a_message(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    empty = recording(LOST_RECORDING, LOST_CALL, duration="0")
    twilio.get(RECORDINGS_URL, json=recordings_page(empty))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=twilio_call(LOST_CALL, PARENT, HEREFORD))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        "checked 1 recording(s), recovered 0"
    )
    assert list_callbacks(session, clock()) == []


def test_without_twilio_credentials_reconciling_is_skipped(
    clock: Clock, run: Callable[..., str]
) -> None:
    assert run(reconcile_recordings, clock()) == "skipped: no Twilio credentials"


def test_a_recovered_call_shows_as_a_voicemail_in_the_call_log(
    session: Session,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=twilio_call(LOST_CALL, PARENT, HEREFORD))

    run(reconcile_recordings, clock(), dialer=twilio_dialer)

    [shown] = recent_calls(session)
    # Twilio says the call completed at 09:30:45 and a message was left on it.
    assert (shown["status"], shown["outcome"]) == ("completed", "voicemail")
    assert shown["ended_at"] is not None


# --- run_job and last_runs ----------------------------------------------------------------


class UnreachableTwilio:
    """A dialer with credentials whose API cannot be reached."""

    places_calls = True

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        raise DialerError("Twilio could not be reached")

    def fetch_call(self, sid: str) -> CallInfo | None:
        raise DialerError("Twilio could not be reached")


class HalfWayTwilio(UnreachableTwilio):
    """Lists two recordings, then fails when asked about the second one's call."""

    def __init__(self, known_call: str) -> None:
        self.known_call = known_call

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        at = london(MONDAY, 9, 30)
        return [
            RecordingInfo("RE" + "2" * 32, self.known_call, 30, at),
            RecordingInfo(LOST_RECORDING, LOST_CALL, 42, at),
        ]


def test_a_run_is_recorded_with_its_summary(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    new_callback(session, settings, PARENT, "herefordshire", clock())
    session.commit()

    summary = run_job(runtime, "assign-callbacks")

    assert summary == "assigned 1 of 1 waiting callback(s)"
    latest = last_runs(runtime)
    assert set(latest) == {"assign-callbacks"}
    assert (latest["assign-callbacks"].ok, latest["assign-callbacks"].summary) == (True, summary)
    assert latest["assign-callbacks"].started_at == clock()

    clock.advance(minutes=1)
    assert run_job(runtime, "assign-callbacks") == "nothing to assign"
    again = last_runs(runtime)["assign-callbacks"]
    assert (again.ok, again.summary, again.started_at) == (True, "nothing to assign", clock())


def test_a_failed_run_is_recorded_and_raised(runtime: Runtime, clock: Clock) -> None:
    runtime = dataclasses.replace(runtime, dialer=UnreachableTwilio())
    run_job(runtime, "warn-deadlines")

    with pytest.raises(DialerError):
        run_job(runtime, "reconcile-recordings")

    latest = last_runs(runtime)
    failed = latest["reconcile-recordings"]
    assert (failed.ok, failed.summary, failed.started_at) == (False, "failed: DialerError", clock())
    assert latest["warn-deadlines"].ok is True


def test_a_call_twilio_cannot_describe_does_not_hold_up_the_other_recordings(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    known = "CA" + "2" * 32
    calls.record_incoming(session, settings, known, OTHER_PARENT, WORCS, london(MONDAY, 9, 29))
    session.commit()

    summary = run_job(
        dataclasses.replace(runtime, dialer=HalfWayTwilio(known)), "reconcile-recordings"
    )

    assert summary == "checked 2 recording(s), recovered 1, 1 failed"
    session.expire_all()
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"]) == (OTHER_PARENT, "worcestershire")
    assert last_runs(runtime)["reconcile-recordings"].ok is True


class ShiftyTwilio(UnreachableTwilio):
    """Lists three recordings of calls the service knows; the middle one it cannot store."""

    def __init__(self, *call_sids: str) -> None:
        self.call_sids = call_sids

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        at = london(MONDAY, 9, 30)
        times = [at, at.replace(tzinfo=None), at]  # a time with no zone cannot be stored
        return [
            RecordingInfo(f"RE{n}" + "3" * 31, sid, 30, when)
            for n, (sid, when) in enumerate(zip(self.call_sids, times, strict=True))
        ]


def test_one_recording_that_cannot_be_filed_does_not_lose_the_others(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    sids = ["CA1" + "4" * 31, "CA2" + "4" * 31, "CA3" + "4" * 31]
    at = london(MONDAY, 9, 29)
    calls.record_incoming(session, settings, sids[0], PARENT, HEREFORD, at)
    calls.record_incoming(session, settings, sids[1], parent(7), HEREFORD, at)
    calls.record_incoming(session, settings, sids[2], OTHER_PARENT, WORCS, at)
    session.commit()

    summary = run_job(
        dataclasses.replace(runtime, dialer=ShiftyTwilio(*sids)), "reconcile-recordings"
    )

    assert summary == "checked 3 recording(s), recovered 2, 1 failed"
    session.expire_all()
    shown = {(c["phone"], c["office"]) for c in list_callbacks(session, clock())}
    assert shown == {(PARENT, "herefordshire"), (OTHER_PARENT, "worcestershire")}


def test_jobs_run_on_the_runtime_the_service_builds(runtime: Runtime) -> None:
    # No Twilio credentials in the test settings: the logging stand-in is wired in.
    assert run_job(runtime, "reconcile-recordings") == "skipped: no Twilio credentials"
    assert last_runs(runtime)["reconcile-recordings"].ok is True


# --- two clocks at once -------------------------------------------------------------------


def _delete_everything(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def test_two_clocks_at_once_assign_each_callback_once(engine: Engine, settings: Settings) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes a write lock at BEGIN, so two runs cannot overlap there")
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    try:
        with Session(engine) as setup:
            adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
            adviser(setup, "Cat Cedar", CAT, "worcestershire", MONDAY)
            ids = [
                new_callback(
                    setup, settings, parent(n), ("herefordshire", "worcestershire")[n % 2], now
                ).id
                for n in range(20)
            ]
            setup.commit()

        barrier = threading.Barrier(2, timeout=10)
        summaries: list[str] = []
        errors: list[BaseException] = []

        def clock_process() -> None:
            try:
                with Session(engine) as session:
                    ctx = JobContext(settings, LoggingDialer(), after_claim=barrier.wait)
                    summary = assign_callbacks(session, ctx, now)
                    session.commit()
                summaries.append(summary)
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=clock_process) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        assigned = [
            int(m.group(1)) if (m := re.match(r"assigned (\d+) of", s)) else 0 for s in summaries
        ]
        assert len(summaries) == 2
        assert sum(assigned) == 20
        with Session(engine) as check:
            per_callback = dict(
                check.execute(
                    select(CallbackEvent.callback_id, func.count())
                    .where(CallbackEvent.kind == "assigned")
                    .group_by(CallbackEvent.callback_id)
                ).all()
            )
            assert per_callback == dict.fromkeys(ids, 1)
            holders = check.scalars(
                select(Callback.assigned_to_id).where(Callback.id.in_(ids))
            ).all()
            assert None not in holders
            names = dict(check.execute(select(Adviser.id, Adviser.name)).all())
            assert sorted(names[h] for h in set(holders)) == ["Ann Ash", "Cat Cedar"]
            assert check.scalar(select(func.count()).select_from(Shift)) == 2
    finally:
        _delete_everything(engine)


def test_a_monday_morning_deadline_is_flagged_on_friday_afternoon(
    session: Session, settings: Settings, run: Callable[..., str]
) -> None:
    # A message on Thursday 3 December at 09:30 is due Monday 7 December at 09:30.
    callback = new_callback(
        session, settings, PARENT, "herefordshire", london(date(2026, 12, 3), 9, 30)
    )
    assert callback.due_at == london(date(2026, 12, 7), 9, 30)
    friday = date(2026, 12, 4)
    # Friday closes at 16:30: 3.5 working hours from 13:00, plus half an hour on Monday.
    assert run(warn_deadlines, london(friday, 12, 59)) == "raised 0 deadline warning(s)"
    assert run(warn_deadlines, london(friday, 13, 0)) == "raised 1 deadline warning(s)"
    assert warnings_of(session, callback) == ["due-soon"]


# --- delete-recordings ----------------------------------------------------------------------


def old_message(
    session: Session, settings: Settings, sid: str, phone: str, days_ago: int, now: datetime
) -> Message:
    """A message received `days_ago` days before `now`, filed into its caller's callback."""
    received = now - timedelta(days=days_ago)
    call_sid = "CA" + sid[2:]
    calls.record_incoming(session, settings, call_sid, phone, HEREFORD, received)
    message = record_message(
        session, settings, recording_sid=sid, call_sid=call_sid, duration_s=30, now=received
    )
    assert message is not None
    return message


def test_recordings_past_retention_are_deleted_at_twilio_once_their_callback_is_closed(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    done = old_message(session, settings, "RE" + "a" * 32, PARENT, 200, now)
    attempts.record_outcome(
        session,
        settings,
        common.get(session, done.callback_id or 0),
        "spoke",
        "Ann",
        now - timedelta(days=199),
    )
    still_open = old_message(session, settings, "RE" + "b" * 32, OTHER_PARENT, 200, now)
    recent = old_message(session, settings, "RE" + "c" * 32, "+447700900777", 10, now)
    staff_actions.close(session, common.get(session, recent.callback_id or 0), "sorted", "Ann", now)
    twilio.delete(f"{API}/Recordings/{done.recording_sid}.json", status=204)

    assert (
        run(delete_recordings, now, dialer=twilio_dialer) == "deleted 1 recording(s) past retention"
    )
    session.refresh(done)
    session.refresh(still_open)
    session.refresh(recent)
    assert done.deleted_at is not None and done.duration_s == 30  # the statistics stay
    assert still_open.deleted_at is None and recent.deleted_at is None
    assert [c.request.method for c in twilio.calls] == ["DELETE"]
    assert (
        run(delete_recordings, now, dialer=twilio_dialer) == "deleted 0 recording(s) past retention"
    )
    assert len(twilio.calls) == 1


def test_a_recording_twilio_will_not_delete_is_tried_again_next_run(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = old_message(session, settings, "RE" + "d" * 32, PARENT, 400, now)
    staff_actions.close(
        session, common.get(session, message.callback_id or 0), "sorted", "Ann", now
    )
    url = f"{API}/Recordings/{message.recording_sid}.json"
    twilio.delete(url, status=500, json={"code": 20500, "message": "oops", "status": 500})
    assert run(delete_recordings, now, dialer=twilio_dialer).endswith("1 failed")
    twilio.replace(responses.DELETE, url, status=204)
    assert (
        run(delete_recordings, now, dialer=twilio_dialer) == "deleted 1 recording(s) past retention"
    )
    assert run(delete_recordings, now) == "skipped: no Twilio credentials"


class DyingTwilio(UnreachableTwilio):
    """The scheduler's process is killed while it waits for Twilio to delete a recording."""

    def delete_recording(self, sid: str) -> None:
        raise KeyboardInterrupt


def test_a_recording_claimed_by_a_run_that_died_is_deleted_an_hour_later(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., str],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    now = clock()
    message = old_message(session, settings, "RE" + "f" * 32, PARENT, 400, now)
    staff_actions.close(
        session, common.get(session, message.callback_id or 0), "sorted", "Ann", now
    )
    twilio.delete(f"{API}/Recordings/{message.recording_sid}.json", status=204)
    with pytest.raises(KeyboardInterrupt):
        run(delete_recordings, now, dialer=DyingTwilio())

    # Soon after, the claim may still be another clock's, slow at Twilio: it is left alone.
    soon = now + timedelta(minutes=5)
    assert (
        run(delete_recordings, soon, dialer=twilio_dialer)
        == "deleted 0 recording(s) past retention"
    )
    later = now + timedelta(hours=1, minutes=1)
    assert (
        run(delete_recordings, later, dialer=twilio_dialer)
        == "deleted 1 recording(s) past retention"
    )
    session.refresh(message)
    assert message.deleted_at == later
