"""Callbacks of an office with no opening in sight: filed with no deadline, assigned last and
never warned of, until reopening the office or the start-clocks job gives them one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from callbacks import attempts, clocks
from callbacks.job_results import Assigned, ClocksStarted, JobResult, Warned
from callbacks.jobs import assign_callbacks, start_clocks, warn_deadlines
from callbacks.report import list_callbacks
from helpline.settings import Settings
from rota import service as rota
from tests.constants import (
    ANN,
    FRIDAY,
    MONDAY,
    OTHER_PARENT,
    PARENT,
    TUESDAY,
    WEDNESDAY,
    london,
    parent,
)
from tests.db.jobs.helpers import events, holder, listed, new_callback, warnings_of, with_policy
from tests.factories import Clock, adviser


def close_until_further_notice(
    session: Session, settings: Settings, office: str, at: datetime
) -> None:
    rota.close_office(session, settings, office, at)
    session.flush()


def test_callbacks_with_no_deadline_are_assigned_after_those_with_one(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    adviser(session, "Ann Ash", ANN, "worcestershire", MONDAY)
    undated = new_callback(session, settings, parent(1), "herefordshire", clock())
    dated = new_callback(session, settings, parent(2), "worcestershire", clock())
    assert (undated.due_at, dated.due_at) == (None, london(WEDNESDAY, 10))

    one_each = with_policy(settings, max_open_per_adviser=1)
    assert run(assign_callbacks, clock(), with_settings=one_each) == (
        Assigned(waiting=2, assigned=1)
    )
    assert (holder(session, dated), holder(session, undated)) == ("Ann Ash", None)

    # With room, the callback with no deadline is assigned too.
    assert run(assign_callbacks, clock()) == Assigned(waiting=1, assigned=1)
    assert holder(session, undated) == "Ann Ash"


def test_a_callback_with_no_deadline_is_listed_last_and_never_warned_of(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    close_until_further_notice(session, settings, "herefordshire", clock())
    undated = new_callback(session, settings, parent(1), "herefordshire", clock())
    dated = new_callback(session, settings, parent(2), "worcestershire", clock())
    past = london(date(2026, 12, 14), 12)  # long after Worcestershire's deadline

    assert run(warn_deadlines, past) == Warned(raised=1)

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
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    office = dataclasses.replace(settings.offices["herefordshire"], hours={})
    no_hours = dataclasses.replace(settings, offices={**settings.offices, "herefordshire": office})
    waiting = new_callback(session, no_hours, PARENT, "herefordshire", clock())
    assert waiting.due_at is None
    assert run(start_clocks, clock(), with_settings=no_hours) == (
        ClocksStarted(waiting=1, started=0, still_waiting=1)
    )
    assert run(start_clocks, clock()) == (ClocksStarted(waiting=1, started=1, still_waiting=0))
    session.refresh(waiting)
    assert waiting.due_at == london(WEDNESDAY, 10)

    # Closed until further notice, then reopened by a path that starts no clock itself.
    close_until_further_notice(session, settings, "herefordshire", clock())
    closed = new_callback(session, settings, OTHER_PARENT, "herefordshire", clock())
    assert run(start_clocks, london(MONDAY, 11)) == (
        ClocksStarted(waiting=1, started=0, still_waiting=1)
    )
    rota.open_office(session, settings, "herefordshire", london(MONDAY, 12))
    assert run(start_clocks, london(MONDAY, 12, 5)) == (
        ClocksStarted(waiting=1, started=1, still_waiting=0)
    )
    assert listed(session, london(MONDAY, 12, 5), closed.id)["due_at"] == (
        london(WEDNESDAY, 12, 5).isoformat()
    )
    assert run(start_clocks, london(MONDAY, 12, 10)) == ClocksStarted(
        waiting=0, started=0, still_waiting=0
    )
