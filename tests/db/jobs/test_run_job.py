"""Running a job as the scheduler does: each run is recorded with its summary, and a failed run
is recorded and raised."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from callbacks.job_results import Assigned, Skipped
from helpline.dialer import DialerError
from helpline.runtime import Runtime
from helpline.scheduler import last_runs, run_job
from helpline.settings import Settings
from tests.constants import ANN, MONDAY, PARENT
from tests.db.jobs.helpers import UnreachableTwilio, new_callback
from tests.factories import Clock, adviser


def test_a_run_is_recorded_with_its_summary(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    new_callback(session, settings, PARENT, "herefordshire", clock())
    session.commit()

    result = run_job(runtime, "assign-callbacks")

    assert result == Assigned(waiting=1, assigned=1)
    latest = last_runs(runtime)
    assert set(latest) == {"assign-callbacks"}
    assert (latest["assign-callbacks"].ok, latest["assign-callbacks"].summary) == (
        True,
        "assigned 1 of 1 waiting callback(s)",
    )
    assert latest["assign-callbacks"].started_at == clock()

    clock.advance(minutes=1)
    assert run_job(runtime, "assign-callbacks") == Assigned(waiting=0, assigned=0)
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


def test_jobs_run_on_the_runtime_the_service_builds(runtime: Runtime) -> None:
    # No Twilio credentials in the test settings: the logging stand-in is wired in.
    assert run_job(runtime, "reconcile-recordings") == Skipped("no Twilio credentials")
    assert last_runs(runtime)["reconcile-recordings"].ok is True
