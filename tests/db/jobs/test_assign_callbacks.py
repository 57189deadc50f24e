"""The assign-callbacks job: open callbacks go to advisers on shift, the caller's county
first and the most urgent first, each once even when two clocks run at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from callbacks import staff_actions
from callbacks.job_results import Assigned, JobResult
from callbacks.jobs import JobContext, assign_callbacks
from callbacks.models import Callback, CallbackEvent
from helpline.dialer import LoggingDialer
from helpline.settings import Settings
from rota.models import Adviser, Shift
from tests.constants import ANN, BEN, CAT, MONDAY, TUESDAY, parent
from tests.db.jobs.helpers import (
    delete_everything,
    events,
    holder,
    listed,
    new_callback,
    pause_after_claim,
    with_policy,
)
from tests.factories import Clock, adviser


def test_own_county_adviser_gets_the_callback_first(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    hereford = new_callback(session, settings, parent(1), "herefordshire", clock())
    worcs = new_callback(session, settings, parent(2), "worcestershire", clock())

    result = run(assign_callbacks, clock())

    assert result == Assigned(waiting=2, assigned=2)
    assert holder(session, hereford) == "Ann Ash"
    assert holder(session, worcs) == "Cat Cedar"
    assert listed(session, clock(), hereford.id)["status"] == "assigned"
    assert listed(session, clock(), hereford.id)["assigned_to"] == "Ann Ash"


def test_partner_team_takes_a_callback_when_no_own_adviser_is_on_shift(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
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
    run: Callable[..., JobResult],
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

    assert run(assign_callbacks, clock()) == Assigned(waiting=1, assigned=1)

    assert holder(session, callback) == expected


def test_work_is_balanced_across_advisers_of_both_teams(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    waiting = [
        new_callback(session, settings, parent(n), "herefordshire", clock()) for n in range(6)
    ]

    assert run(assign_callbacks, clock()) == Assigned(waiting=6, assigned=6)

    counts: dict[str | None, int] = {}
    for callback in waiting:
        name = holder(session, callback)
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"Ann Ash": 2, "Ben Birch": 2, "Cat Cedar": 2}


def test_nobody_gets_more_than_the_maximum_of_open_callbacks(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
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

    result = run(assign_callbacks, clock(), with_settings=lowered)

    # Ann already holds one, so she takes one more; Cat takes two; one waits in the pool.
    assert result == Assigned(waiting=4, assigned=3)
    holders = [holder(session, c) for c in waiting]
    assert holders.count("Ann Ash") == 1
    assert holders.count("Cat Cedar") == 2
    assert holders.count(None) == 1
    left = next(c for c in waiting if c.assigned_to_id is None)
    assert listed(session, clock(), left.id)["status"] == "open"


def test_an_adviser_whose_shift_is_about_to_end_gets_nothing(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    # Ann's shift ends at 10:20, within the 30 minutes the policy asks for.
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(10, 20))
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == Assigned(waiting=1, assigned=0)
    assert holder(session, callback) is None

    # A colleague with the afternoon ahead of her does get it.
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    run(assign_callbacks, clock())
    assert holder(session, callback) == "Ben Birch"


def test_a_callback_waiting_for_its_retry_is_not_assigned(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())
    callback.next_attempt_at = clock() + timedelta(minutes=5)

    assert run(assign_callbacks, clock()) == Assigned(waiting=0, assigned=0)
    assert holder(session, callback) is None

    run(assign_callbacks, clock() + timedelta(minutes=5))
    assert holder(session, callback) == "Ann Ash"
    assert callback.next_attempt_at is None


def test_the_most_urgent_callback_goes_first_when_capacity_is_short(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
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
        Assigned(waiting=2, assigned=1)
    )

    assert holder(session, sooner) == "Ann Ash"
    assert holder(session, later) is None


def test_callbacks_stay_open_when_nobody_is_on_shift(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)  # not today
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == Assigned(waiting=1, assigned=0)

    shown = listed(session, clock(), callback.id)
    assert (shown["status"], shown["assigned_to"]) == ("open", None)
    assert events(session, callback, "assigned") == []


def test_each_assignment_is_kept_as_an_event_by_the_scheduler(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback = new_callback(session, settings, parent(1), "herefordshire", clock())

    run(assign_callbacks, clock())

    [assigned] = events(session, callback, "assigned")
    assert assigned.actor == "scheduler"
    assert assigned.at == clock()
    assert assigned.detail["adviser_id"] == ann.id
    # Running again does not assign it a second time.
    assert run(assign_callbacks, clock() + timedelta(minutes=1)) == Assigned(waiting=0, assigned=0)
    assert len(events(session, callback, "assigned")) == 1


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
        results: list[Assigned] = []
        errors: list[BaseException] = []

        def clock_process() -> None:
            try:
                with Session(engine) as session:
                    pause_after_claim(session, barrier.wait)
                    ctx = JobContext(settings, LoggingDialer())
                    result = assign_callbacks(session, ctx, now)
                    session.commit()
                results.append(result)
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

        assert len(results) == 2
        assert sum(r.assigned for r in results) == 20
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
        delete_everything(engine)
