"""The prune-job-runs job: the scheduler's records of its runs go after `job_run_days`, except
each job's latest run, which `helpline jobs list` and the health check read."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import job_runs
from callbacks.job_results import Pruned
from callbacks.models import JobRun
from helpline.runtime import Runtime
from helpline.scheduler import last_runs, run_job
from tests.factories import Clock


def ran(session: Session, now: datetime, name: str, days_ago: int) -> None:
    started = now - timedelta(days=days_ago, minutes=5)
    session.add(
        JobRun(
            name=name,
            started_at=started,
            finished_at=started + timedelta(seconds=2),
            ok=True,
            summary="",
        )
    )
    session.flush()


def runs_left(session: Session, now: datetime) -> list[tuple[str, int]]:
    """Each run left, as its job and how many whole days ago it started."""
    session.expire_all()
    rows = session.execute(select(JobRun.name, JobRun.started_at).order_by(JobRun.id)).all()
    return [(name, (now - started).days) for name, started in rows]


@pytest.fixture
def history(session: Session, clock: Clock) -> None:
    """assign-callbacks ran daily for 120 days; start-clocks last ran 200 days ago (say it was
    taken out of the table since); warn-deadlines last ran 95 days ago."""
    now = clock()
    for days_ago in range(120, -1, -1):
        ran(session, now, "assign-callbacks", days_ago)
    ran(session, now, "start-clocks", 300)
    ran(session, now, "start-clocks", 200)
    ran(session, now, "warn-deadlines", 100)
    ran(session, now, "warn-deadlines", 95)
    session.commit()


@pytest.mark.usefixtures("history")
def test_runs_past_retention_go_and_each_jobs_latest_run_stays(
    runtime: Runtime, session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_runs, "PRUNE_BATCH", 7)  # several batches, as on a big table
    latest_before = {name: run.started_at for name, run in last_runs(runtime).items()}

    result = run_job(runtime, "prune-job-runs")

    assert result == Pruned(deleted=31 + 1 + 1, days=90)
    left = runs_left(session, clock())
    assert left[:-1] == [
        *(("assign-callbacks", days) for days in range(89, -1, -1)),
        ("start-clocks", 200),
        ("warn-deadlines", 95),
    ]
    assert left[-1] == ("prune-job-runs", 0)  # its own run, recorded as every run is
    latest_after = {name: run.started_at for name, run in last_runs(runtime).items()}
    assert latest_after == latest_before | {"prune-job-runs": clock()}
    summary = last_runs(runtime)["prune-job-runs"].summary
    assert summary == "deleted 33 job run(s) older than 90 days"

    assert run_job(runtime, "prune-job-runs") == Pruned(deleted=0, days=90)


@pytest.mark.usefixtures("history")
def test_a_deployment_keeps_runs_as_long_as_it_sets(
    runtime: Runtime, session: Session, clock: Clock
) -> None:
    settings = runtime.settings
    longer = dataclasses.replace(
        settings, retention=dataclasses.replace(settings.retention, job_run_days=110)
    )

    result = run_job(dataclasses.replace(runtime, settings=longer), "prune-job-runs")

    assert result == Pruned(deleted=11 + 1, days=110)
    assert ("assign-callbacks", 109) in runs_left(session, clock())
    assert ("assign-callbacks", 110) not in runs_left(session, clock())
