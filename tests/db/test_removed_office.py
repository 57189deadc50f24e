"""Callbacks whose office has since been removed from the configuration.

An office can go from the configuration (renamed, merged) while its callbacks remain: the parents
are still called back, the queue keeps working around them, and nothing ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from callbacks import attempts, filing, staff_actions
from callbacks.job_results import Assigned, ClocksStarted, JobResult, Released, Returned, Warned
from callbacks.jobs import (
    assign_callbacks,
    release_retries,
    return_to_pool,
    start_clocks,
    warn_deadlines,
)
from callbacks.models import Callback, Message
from callbacks.report import list_callbacks
from helpline.settings import Settings
from tests.constants import ANN, MONDAY, OTHER_PARENT, PARENT
from tests.factories import Clock, adviser

GONE = "leominster"  # an office that was configured once
# Monday 30 November 2026, 16:30 in London (GMT): half an hour before the offices close.
LATE_MONDAY = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


@pytest.fixture
def before(settings: Settings) -> Settings:
    """The configuration when the callbacks were filed: one more office, like Herefordshire."""
    hereford = settings.offices["herefordshire"]
    gone = replace(hereford, key=GONE, name="Leominster", numbers=("+441632960009",))
    return replace(settings, offices={**settings.offices, GONE: gone})


def listed(session: Session, now: datetime, callback_id: int) -> dict[str, Any]:
    session.expire_all()
    return next(c for c in list_callbacks(session, now) if c["id"] == callback_id)


def test_a_retry_is_spaced_in_plain_hours(
    session: Session, settings: Settings, before: Settings, clock: Clock
) -> None:
    clock.set(LATE_MONDAY)
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, before, PARENT, GONE, clock())
    same_hours, _ = filing.callback_for(session, before, OTHER_PARENT, "herefordshire", clock())
    for each in (callback, same_hours):
        staff_actions.assign(session, each, alex, "Duty Officer", clock())

    status = attempts.record_outcome(session, settings, callback, "no-answer", "Alex", clock())
    attempts.record_outcome(session, settings, same_hours, "no-answer", "Alex", clock())

    assert status == "open"
    # Two plain hours: the removed office's hours are no longer known to count in.
    assert callback.next_attempt_at == LATE_MONDAY + timedelta(hours=2)
    # An office still configured counts its own hours: half an hour today, 90 minutes tomorrow.
    assert same_hours.next_attempt_at == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def test_twilios_no_answer_and_the_last_attempt_work_too(
    session: Session, settings: Settings, before: Settings, clock: Clock
) -> None:
    callback, _ = filing.callback_for(session, before, PARENT, GONE, clock())

    status = attempts.record_outcome(
        session, settings, callback, "no-answer", "service", clock(), automatic=True
    )
    assert (status, callback.next_attempt_at) == ("open", clock() + timedelta(hours=2))
    # The adviser's word for the same attempt replaces the automatic one.
    assert attempts.record_outcome(session, settings, callback, "spoke", "Alex", clock()) == (
        "completed"
    )
    other, _ = filing.callback_for(session, before, OTHER_PARENT, GONE, clock())
    for _ in range(settings.callbacks.max_attempts - 1):
        attempts.record_outcome(session, settings, other, "left-message", "Alex", clock())
        assert other.next_attempt_at is not None
        clock.set(other.next_attempt_at)  # each further attempt once its retry is due
    last = attempts.record_outcome(session, settings, other, "left-message", "Alex", clock())
    assert last == "unreachable"


def test_a_message_for_a_removed_office_is_filed_and_joined(
    session: Session, settings: Settings, clock: Clock
) -> None:
    first = Message(
        recording_sid="RE" + "1" * 32,
        call_sid="CA" + "1" * 32,
        office=GONE,
        phone=PARENT,
        duration_s=20,
        received_at=clock(),
    )
    again = Message(
        recording_sid="RE" + "2" * 32,
        call_sid="CA" + "2" * 32,
        office=GONE,
        phone=PARENT,
        duration_s=10,
        received_at=clock(),
    )
    session.add_all([first, again])
    session.flush()

    callback = filing.file_message(session, settings, first, clock())
    assert filing.file_message(session, settings, again, clock()) is callback

    shown = listed(session, clock(), callback.id)
    assert (shown["office"], shown["status"], shown["due_at"]) == (GONE, "open", None)
    assert [m["duration_s"] for m in shown["messages"]] == [20, 10]


def test_the_scheduler_works_the_queue_around_such_callbacks(
    session: Session,
    settings: Settings,
    before: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
) -> None:
    now = clock()  # Monday 10:00
    adviser(session, "Alex Adams", ANN, "worcestershire", MONDAY)
    # One filed with a deadline while the office was configured, due in three hours...
    due_soon, _ = filing.callback_for(session, before, PARENT, GONE, now)
    due_soon.due_at = now + timedelta(hours=3)
    # ...and one filed after it was removed, with no deadline.
    waiting, _ = filing.callback_for(session, settings, OTHER_PARENT, GONE, now)
    assert waiting.due_at is None
    session.commit()

    assert run(warn_deadlines, now) == Warned(raised=1)
    assert listed(session, now, due_soon.id)["warning"] == "due-soon"
    assert run(start_clocks, now) == (ClocksStarted(waiting=1, started=0, still_waiting=1))
    # Nobody works for a removed office's team, so whoever is on shift calls them back.
    assert run(assign_callbacks, now) == Assigned(waiting=2, assigned=2)
    assert listed(session, now, waiting.id)["assigned_to"] == "Alex Adams"
    assert run(return_to_pool, now) == Returned(returned=0)
    callback = session.get_one(Callback, due_soon.id)
    attempts.record_outcome(session, settings, callback, "no-answer", "Alex", now)
    session.commit()
    later = now + timedelta(hours=2)
    assert run(release_retries, later) == Released(released=1)
    assert [c["id"] for c in list_callbacks(session, later)] == [due_soon.id, waiting.id]
