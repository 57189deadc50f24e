"""Jobs that call Twilio hold no database transaction while they wait for it.

On SQLite an open transaction is the database's write lock, so a job that waited for Twilio
inside one made incoming calls wait too. These tests run the jobs as the scheduler does, on a
real database of each kind, with a Twilio stand-in that looks at the database each time it is
asked something.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from accounts.models import AuditEntry
from callbacks import common, staff_actions
from callbacks.job_results import Deleted, JobResult, Reconciled
from callbacks.models import Message
from helpline.app import make_runtime
from helpline.db import session_factory
from helpline.dialer import CallInfo, RecordingInfo
from helpline.runtime import Runtime
from helpline.scheduler import run_job
from helpline.settings import Settings
from tests.constants import HEREFORD, MONDAY, PARENT, london, parent
from tests.db.jobs.helpers import LOST_CALL, LOST_RECORDING, delete_everything, old_message

NOW = london(MONDAY, 10)


def nothing_holds_the_database(engine: Engine) -> bool:
    """Whether no connection to the test database has a transaction open at this moment."""
    if engine.dialect.name == "sqlite":
        probe = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # the write lock an incoming call needs
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()
    with engine.connect() as conn:
        open_elsewhere = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()
    return open_elsewhere == 0


class WatchfulTwilio:
    """Twilio as a stand-in that notes, each time it is asked, whether the database was free."""

    places_calls = True

    def __init__(self, engine: Engine, recordings: list[RecordingInfo]) -> None:
        self.engine = engine
        self.recordings = recordings
        self.asked: list[tuple[str, bool]] = []
        self.deleted: list[str] = []

    def _note(self, what: str) -> None:
        self.asked.append((what, nothing_holds_the_database(self.engine)))

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        raise AssertionError("no job places a call")

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        self._note("list recordings")
        return [r for r in self.recordings if until is None or r.created_at < until]

    def fetch_call(self, sid: str) -> CallInfo | None:
        self._note("fetch call")
        return CallInfo(sid, PARENT, HEREFORD)

    def delete_recording(self, sid: str) -> None:
        self._note("delete recording")
        self.deleted.append(sid)


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    """The test database itself (no rolled-back transaction around the test), emptied after."""
    try:
        yield engine
    finally:
        delete_everything(engine)


def runtime_on(engine: Engine, settings: Settings, dialer: object) -> Runtime:
    return make_runtime(
        settings,
        sessions=session_factory(engine),
        clock=lambda: NOW,
        dialer=dialer,  # type: ignore[arg-type]
    )


def closed_old_messages(engine: Engine, settings: Settings, count: int) -> list[str]:
    """`count` messages whose callbacks closed longer ago than retention; their RecordingSids."""
    sids = []
    with Session(engine) as setup:
        for n in range(count):
            message = old_message(setup, settings, f"RE{n:02d}" + "e" * 30, parent(n), 200, NOW)
            callback = common.get(setup, message.callback_id or 0)
            staff_actions.close(setup, callback, "sorted", "Ann Ash", NOW - timedelta(days=190))
            sids.append(message.recording_sid)
        setup.commit()
    return sids


def test_no_transaction_is_open_while_a_job_waits_for_twilio(
    clean: Engine, settings: Settings
) -> None:
    closed_old_messages(clean, settings, 1)
    lost = RecordingInfo(LOST_RECORDING, LOST_CALL, 42, london(MONDAY, 9, 30))
    twilio = WatchfulTwilio(clean, [lost])
    runtime = runtime_on(clean, settings, twilio)

    assert run_job(runtime, "reconcile-recordings") == Reconciled(checked=1, recovered=1, failed=0)
    assert run_job(runtime, "delete-recordings") == Deleted(deleted=1, failed=0)

    assert twilio.asked == [
        ("list recordings", True),
        ("fetch call", True),
        ("delete recording", True),
        ("list recordings", True),  # for recordings never filed
    ]


def test_two_clocks_deleting_at_once_delete_each_recording_once(
    clean: Engine, settings: Settings
) -> None:
    sids = closed_old_messages(clean, settings, 3)
    second = WatchfulTwilio(clean, [])
    second_results: list[JobResult] = []

    class FirstTwilio(WatchfulTwilio):
        def delete_recording(self, sid: str) -> None:
            if not second_results:  # a second clock runs while the first waits for Twilio
                second_results.append(
                    run_job(runtime_on(clean, settings, second), "delete-recordings")
                )
            super().delete_recording(sid)

    first = FirstTwilio(clean, [])

    assert run_job(runtime_on(clean, settings, first), "delete-recordings") == (
        Deleted(deleted=3, failed=0)
    )

    assert second_results == [Deleted(deleted=0, failed=0)]
    assert sorted(first.deleted) == sorted(sids)
    assert second.deleted == []
    with Session(clean) as check:
        assert None not in check.scalars(select(Message.deleted_at)).all()
    assert run_job(runtime_on(clean, settings, second), "delete-recordings") == (
        Deleted(deleted=0, failed=0)
    )


def test_two_clocks_deleting_recordings_never_filed_delete_each_once(
    clean: Engine, settings: Settings
) -> None:
    made = NOW - timedelta(days=8)
    never_filed = [RecordingInfo(f"RE{n:02d}" + "d" * 30, LOST_CALL, 0, made) for n in range(3)]
    second = WatchfulTwilio(clean, never_filed)
    second_results: list[JobResult] = []

    class FirstTwilio(WatchfulTwilio):
        def delete_recording(self, sid: str) -> None:
            if not second_results:  # a second clock runs while the first waits for Twilio
                second_results.append(
                    run_job(runtime_on(clean, settings, second), "delete-recordings")
                )
            super().delete_recording(sid)

    first = FirstTwilio(clean, never_filed)

    assert run_job(runtime_on(clean, settings, first), "delete-recordings") == (
        Deleted(deleted=3, failed=0, unfiled=3)
    )

    assert second_results == [Deleted(deleted=0, failed=0)]
    assert sorted(first.deleted) == sorted(r.sid for r in never_filed)
    assert second.deleted == []
    with Session(clean) as check:
        audited = check.scalars(select(AuditEntry.subject_id)).all()
    assert sorted(audited) == sorted(r.sid for r in never_filed)
    assert run_job(runtime_on(clean, settings, second), "delete-recordings") == (
        Deleted(deleted=0, failed=0)
    )
