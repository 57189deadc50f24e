"""Two clock processes running the same job at the same moment on PostgreSQL (a second clock
started by mistake, or a deploy overlapping the old one) never do one piece of work twice.

Each clock runs the job as the scheduler does (`helpline.scheduler.run_job`) with its own
database connection; both are held just after claiming their rows, so that their work overlaps
unless the claim keeps them apart.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from callbacks import staff_actions
from callbacks.models import Callback, CallbackEvent, DeadlineWarning, Message
from helpline.app import make_runtime
from helpline.db import make_engine, session_factory
from helpline.dialer import LoggingDialer
from helpline.scheduler import run_job
from helpline.settings import Settings
from tests.constants import ANN, CAT, MONDAY, WEDNESDAY, london, parent
from tests.db.jobs.helpers import delete_everything, new_callback, old_message
from tests.factories import adviser

CALLBACKS = 20
TEN = london(MONDAY, 10)


class CountingTwilio(LoggingDialer):
    """A dialer with credentials that counts the recordings it is asked to delete."""

    def __init__(self) -> None:
        super().__init__(places_calls=True)
        self.deleted: list[str] = []

    def delete_recording(self, sid: str) -> None:
        self.deleted.append(sid)


@pytest.fixture
def shared(database_url: str) -> Iterator[Engine]:
    """The PostgreSQL test database with committed data, emptied again afterwards."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes a write lock at BEGIN, so two runs cannot overlap there")
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        delete_everything(engine)
        engine.dispose()


def two_clocks_at_once(
    engine: Engine, settings: Settings, name: str, dialer: Any, now: Any
) -> None:
    """Run job `name` on two threads at once, each held after its claim until both claimed."""
    barrier = threading.Barrier(2, timeout=10)
    held = threading.local()
    errors: list[BaseException] = []

    def hold_after_claim(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "SKIP LOCKED" in statement and not getattr(held, "done", False):
            held.done = True
            barrier.wait()

    def clock_process() -> None:
        try:
            runtime = make_runtime(
                settings, sessions=session_factory(engine), clock=lambda: now, dialer=dialer
            )
            run_job(runtime, name)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    event.listen(engine, "after_cursor_execute", hold_after_claim)
    try:
        threads = [threading.Thread(target=clock_process) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", hold_after_claim)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def events_per_callback(engine: Engine, kind: str) -> Counter[int]:
    with Session(engine) as check:
        return Counter(
            check.scalars(select(CallbackEvent.callback_id).where(CallbackEvent.kind == kind))
        )


def callbacks(setup: Session, settings: Settings, now: Any = TEN) -> list[Callback]:
    offices = ("herefordshire", "worcestershire")
    return [new_callback(setup, settings, parent(n), offices[n % 2], now) for n in range(CALLBACKS)]


def test_two_clocks_assign_each_callback_once(shared: Engine, settings: Settings) -> None:
    with Session(shared) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        adviser(setup, "Cat Cedar", CAT, "worcestershire", MONDAY)
        ids = [c.id for c in callbacks(setup, settings)]
        setup.commit()

    two_clocks_at_once(shared, settings, "assign-callbacks", LoggingDialer(), TEN)

    assert events_per_callback(shared, "assigned") == dict.fromkeys(ids, 1)


def test_two_clocks_return_each_callback_to_the_pool_once(
    shared: Engine, settings: Settings
) -> None:
    with Session(shared) as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY, time(9), time(12))
        held = callbacks(setup, settings)
        for callback in held:
            staff_actions.assign(setup, callback, ann, "Dana Duty", TEN)
        ids = [c.id for c in held]
        setup.commit()

    two_clocks_at_once(shared, settings, "return-to-pool", LoggingDialer(), london(MONDAY, 12, 1))

    assert events_per_callback(shared, "returned-to-pool") == dict.fromkeys(ids, 1)
    with Session(shared) as check:
        assert set(check.scalars(select(Callback.assigned_to_id))) == {None}


def test_two_clocks_release_each_retry_once(shared: Engine, settings: Settings) -> None:
    with Session(shared) as setup:
        waiting = callbacks(setup, settings)
        for callback in waiting:
            callback.next_attempt_at = TEN + timedelta(minutes=30)
        ids = [c.id for c in waiting]
        setup.commit()

    two_clocks_at_once(shared, settings, "release-retries", LoggingDialer(), london(MONDAY, 11))

    assert events_per_callback(shared, "retry-due") == dict.fromkeys(ids, 1)
    with Session(shared) as check:
        assert set(check.scalars(select(Callback.next_attempt_at))) == {None}


def test_two_clocks_warn_of_each_overdue_deadline_once(shared: Engine, settings: Settings) -> None:
    with Session(shared) as setup:
        ids = [c.id for c in callbacks(setup, settings)]
        setup.commit()

    two_clocks_at_once(shared, settings, "warn-deadlines", LoggingDialer(), london(WEDNESDAY, 11))

    assert events_per_callback(shared, "warning-overdue") == dict.fromkeys(ids, 1)
    with Session(shared) as check:
        warned = Counter(check.scalars(select(DeadlineWarning.callback_id)))
    assert warned == dict.fromkeys(ids, 1)


def test_two_clocks_delete_each_recording_at_twilio_once(
    shared: Engine, settings: Settings
) -> None:
    with Session(shared) as setup:
        sids = [f"RE{n:032d}" for n in range(CALLBACKS)]
        for n, sid in enumerate(sids):
            message = old_message(setup, settings, sid, parent(n), 200, TEN)
            callback = setup.get_one(Callback, message.callback_id)
            staff_actions.close(setup, callback, "sorted", "Ann Ash", TEN - timedelta(days=199))
        setup.commit()
    twilio = CountingTwilio()

    two_clocks_at_once(shared, settings, "delete-recordings", twilio, TEN)

    assert sorted(twilio.deleted) == sids
    with Session(shared) as check:
        left = check.scalar(
            select(func.count()).select_from(Message).where(Message.deleted_at.is_(None))
        )
    assert left == 0
