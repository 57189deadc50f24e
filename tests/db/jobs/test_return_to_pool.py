"""The return-to-pool job: a callback goes back to the pool once the shift of the adviser who
holds it has ended since it was given to them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from callbacks import attempts, staff_actions
from callbacks.job_results import JobResult, Returned
from callbacks.jobs import assign_callbacks, return_to_pool
from helpline.settings import Settings
from tests.constants import ANN, BEN, LONDON, MONDAY, TUESDAY, london, parent
from tests.db.jobs.helpers import events, holder, listed, new_callback
from tests.factories import Clock, adviser, shift


def test_work_returns_to_the_pool_when_the_shift_ends(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(12))
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY, time(9), time(17))
    anns = new_callback(session, settings, parent(1), "herefordshire", clock())
    bens = new_callback(session, settings, parent(2), "herefordshire", clock())
    run(assign_callbacks, clock())
    assert (holder(session, anns), holder(session, bens)) == ("Ann Ash", "Ben Birch")

    assert run(return_to_pool, london(MONDAY, 11, 59)) == Returned(returned=0)
    assert holder(session, anns) == "Ann Ash"

    after_shift = london(MONDAY, 12, 1)
    assert run(return_to_pool, after_shift) == Returned(returned=1)

    shown = listed(session, after_shift, anns.id)
    assert (shown["status"], shown["assigned_to"]) == ("open", None)
    assert holder(session, bens) == "Ben Birch"
    [returned] = events(session, anns, "returned-to-pool")
    assert (returned.actor, returned.detail["reason"]) == ("scheduler", "shift ended")


def test_a_callback_being_called_back_is_not_returned_to_the_pool(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(12))
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())
    run(assign_callbacks, clock())
    attempts.start_attempt(session, callback, ann, "Ann Ash", london(MONDAY, 11, 50))

    assert run(return_to_pool, london(MONDAY, 12, 10)) == Returned(returned=0)
    assert holder(session, callback) == "Ann Ash"

    # An attempt with no outcome an hour later is taken to have been abandoned.
    assert run(return_to_pool, london(MONDAY, 13)) == Returned(returned=1)
    assert holder(session, callback) is None


@pytest.mark.parametrize(
    ("works_monday_morning", "assigned_at"),
    [(False, london(MONDAY, 10)), (True, london(MONDAY, 14))],
    ids=["first shift tomorrow", "assigned after the day's shift ended"],
)
def test_work_given_to_an_adviser_off_shift_stays_theirs_until_their_next_shift_ends(
    session: Session,
    settings: Settings,
    run: Callable[..., JobResult],
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
        assert run(return_to_pool, later) == Returned(returned=0)
        assert holder(session, callback) == "Ann Ash"

    # ...and ends when that shift does.
    assert run(return_to_pool, london(TUESDAY, 17, 1)) == Returned(returned=1)
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
