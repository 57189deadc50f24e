"""The queue and an adviser's callbacks as the pages list them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from callbacks import attempts, filing, staff_actions
from callbacks.job_results import JobResult
from callbacks.jobs import warn_deadlines
from callbacks.listing import NO_DEADLINE, QueueFilter, QueueRow, my_callbacks, queue
from callbacks.models import Callback
from helpline.settings import Settings
from rota.service import close_office
from tests.constants import ANN, BEN, MONDAY, WEDNESDAY, london, parent
from tests.factories import Clock, adviser


def ids(rows: list[QueueRow]) -> list[int]:
    return [row.callback_id for row in rows]


def new(session: Session, settings: Settings, phone: str | None, office: str, clock: Clock) -> int:
    callback, _ = filing.callback_for(session, settings, phone, office, clock())
    return callback.id


def test_a_row_says_the_working_time_left_and_which_attempt_comes_next(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback_id = new(session, settings, parent(1), "herefordshire", clock)

    (row,) = queue(session, settings, clock(), show_numbers=True)

    # Filed at 10:00 on Monday: due at 10:00 on Wednesday, 7 + 8 + 1 hours of opening away.
    assert row.callback_id == callback_id
    assert row.deadline.due_at == london(WEDNESDAY, 10)
    assert row.deadline.working_seconds_left == 16 * 3600
    assert row.deadline.text == "16 hours of working time left"
    assert row.attempt_label == "attempt 1 of 3"
    assert (row.phone, row.has_number, row.office_name) == (parent(1), True, "Herefordshire")
    assert not row.awaiting_outcome and not row.deadline.overdue


def test_advisers_see_the_queue_without_callers_numbers(
    session: Session, settings: Settings, clock: Clock
) -> None:
    new(session, settings, parent(1), "herefordshire", clock)
    new(session, settings, None, "worcestershire", clock)

    rows = queue(session, settings, clock(), show_numbers=False)

    assert [row.phone for row in rows] == [None, None]
    assert sorted(row.has_number for row in rows) == [False, True]


def test_a_number_replaced_by_its_pseudonym_is_shown_as_no_number(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback_id = new(session, settings, parent(1), "herefordshire", clock)
    callback = session.get(Callback, callback_id)
    assert callback is not None
    callback.phone = "pseud:0123456789abcd"  # as the retention job leaves it
    session.flush()

    (row,) = queue(session, settings, clock(), show_numbers=True)

    assert (row.phone, row.has_number) == (None, False)


def test_most_urgent_first_and_no_deadline_after_every_deadline(
    session: Session, settings: Settings, clock: Clock
) -> None:
    later = new(session, settings, parent(1), "herefordshire", clock)
    close_office(session, settings, "worcestershire", clock(), reason="until further notice")
    no_deadline = new(session, settings, parent(2), "worcestershire", clock)
    clock.set(london(MONDAY, 9, 30))
    sooner = new(session, settings, parent(3), "herefordshire", clock)
    clock.set(london(MONDAY, 11))

    rows = queue(session, settings, clock(), show_numbers=True)

    assert ids(rows) == [sooner, later, no_deadline]
    assert rows[-1].deadline.text == NO_DEADLINE and rows[-1].deadline.due_at is None


def test_overdue_callbacks_show_the_warning_recorded_for_the_duty_officer(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    overdue = new(session, settings, parent(1), "herefordshire", clock)
    clock.set(london(WEDNESDAY, 9))
    fresh = new(session, settings, parent(2), "herefordshire", clock)
    clock.set(london(WEDNESDAY, 12))
    run(warn_deadlines, clock())

    rows = {row.callback_id: row for row in queue(session, settings, clock(), show_numbers=True)}

    assert rows[overdue].warning == "overdue"
    assert rows[overdue].warned_at == clock()
    assert rows[overdue].deadline.text == "overdue by 2 hours of working time"
    assert rows[fresh].warning is None
    only = queue(session, settings, clock(), QueueFilter(overdue=True), show_numbers=True)
    assert ids(only) == [overdue]


def test_the_queue_filters_by_county_status_assignee_and_number(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    hereford = new(session, settings, parent(1), "herefordshire", clock)
    worcs = new(session, settings, parent(2), "worcestershire", clock)
    withheld = new(session, settings, None, "worcestershire", clock)
    held = new(session, settings, parent(3), "herefordshire", clock)
    staff_actions.assign(session, session.get_one(Callback, held), ann, "Dana Duty", clock())  # type: ignore[attr-defined]
    closed = new(session, settings, parent(4), "herefordshire", clock)
    staff_actions.close(session, session.get_one(Callback, closed), "duplicate", "Dana", clock())  # type: ignore[attr-defined]

    def listed(**wanted: Any) -> set[int]:
        return set(ids(queue(session, settings, clock(), QueueFilter(**wanted), show_numbers=True)))

    assert listed() == {hereford, worcs, withheld, held}
    assert listed(office="worcestershire") == {worcs, withheld}
    assert listed(unassigned=True) == {hereford, worcs, withheld}
    assert listed(status="assigned") == {held}
    assert listed(status="cancelled") == {closed}
    assert listed(no_number=True) == {withheld}
    assert listed(office="herefordshire", unassigned=True) == {hereford}


def test_my_callbacks_are_my_open_ones_with_attempts_awaiting_an_outcome(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    ben = adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    mine = new(session, settings, parent(1), "herefordshire", clock)
    theirs = new(session, settings, parent(2), "herefordshire", clock)
    done = new(session, settings, parent(3), "herefordshire", clock)
    for callback_id, person in ((mine, ann), (theirs, ben), (done, ann)):
        staff_actions.assign(session, session.get_one(Callback, callback_id), person, "x", clock())  # type: ignore[attr-defined]
    callback = session.get_one(Callback, done)
    attempts.start_attempt(session, callback, ann, "Ann Ash", clock())
    attempts.record_outcome(session, settings, callback, "spoke", "Ann Ash", clock())
    calling = session.get_one(Callback, mine)
    attempts.start_attempt(session, calling, ann, "Ann Ash", clock())

    (row,) = my_callbacks(session, settings, ann.id, clock())

    assert row.callback_id == mine
    assert row.awaiting_outcome and row.calling_now
    assert row.attempt_label == "attempt 1 of 3"


def test_after_an_attempt_the_row_counts_it_and_shows_the_retry(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback_id = new(session, settings, parent(1), "herefordshire", clock)
    callback = session.get_one(Callback, callback_id)
    attempt = attempts.start_attempt(session, callback, ann, "Ann Ash", clock())
    attempts.placed(attempt, None)  # Twilio took the call
    attempts.record_outcome(session, settings, callback, "no-answer", "Ann Ash", clock())

    (row,) = queue(session, settings, clock(), show_numbers=True)

    assert (row.attempts_made, row.attempt_label) == (1, "attempt 2 of 3")
    assert row.deadline.met and row.deadline.text == "first attempt made in time"
    assert row.next_attempt_at == london(MONDAY, 12)
    assert not row.awaiting_outcome


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    connection = session.connection()
    event.listen(connection, "after_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(connection, "after_cursor_execute", seen)


def test_listing_costs_the_same_few_queries_for_many_callbacks(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)

    def add(n: int) -> None:
        callback_id = new(
            session, settings, parent(n), ("herefordshire", "worcestershire")[n % 2], clock
        )
        callback = session.get_one(Callback, callback_id)
        staff_actions.assign(session, callback, ann, "x", clock())

    for n in range(2):
        add(n)
    session.expire_all()
    with counting(session) as few:
        assert len(queue(session, settings, clock(), show_numbers=True)) == 2
    for n in range(2, 20):
        add(n)
    session.expire_all()
    with counting(session) as many:
        assert len(queue(session, settings, clock(), show_numbers=True)) == 20

    assert len(many) == len(few) <= 8


def test_an_attempt_never_placed_does_not_keep_the_promise_as_the_statistics_count_it(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback_id = new(session, settings, parent(1), "herefordshire", clock)
    callback = session.get_one(Callback, callback_id)
    attempts.start_attempt(session, callback, ann, "Ann Ash", clock())  # no Twilio: not placed
    attempts.record_outcome(session, settings, callback, "no-answer", "Ann Ash", clock())

    (row,) = queue(session, settings, clock(), show_numbers=True)

    assert row.attempts_made == 1
    assert not row.deadline.met
    assert row.deadline.text == "16 hours of working time left"
    (late,) = queue(session, settings, london(WEDNESDAY, 11), show_numbers=True)
    assert late.deadline.overdue and "made in time" not in late.deadline.text
