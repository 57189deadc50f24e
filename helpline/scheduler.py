"""The clock process: runs the jobs table on APScheduler, each run recorded as a JobRun."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import func, select

from accounts.audit import record_for_job
from callbacks.job_results import JobResult
from callbacks.jobs import JOBS, JobContext
from callbacks.models import JobRun
from helpline.db import unit_of_work
from helpline.logs import describe_failure
from helpline.runtime import Runtime

log = logging.getLogger("helpline.scheduler")


def context(runtime: Runtime) -> JobContext:
    """What jobs are given: the settings, the dialer and the audit log's writer."""
    return JobContext(settings=runtime.settings, dialer=runtime.dialer, audit=record_for_job)


def run_job(runtime: Runtime, name: str) -> JobResult:
    """Run one job now, record the run with its summary, and return what it did (raising on
    failure). The one place a run's result becomes its line in the log and in `job_run`."""
    job = JOBS[name]
    started = runtime.clock()
    try:
        result = job.run(runtime.sessions, context(runtime), started)
    except Exception as exc:
        log.error("job %s failed: %s", name, describe_failure(exc))
        _record(runtime, name, started, ok=False, summary=f"failed: {type(exc).__name__}")
        raise
    summary = result.summary()
    _record(runtime, name, started, ok=True, summary=summary)
    log.info("job %s: %s", name, summary)
    return result


def _record(runtime: Runtime, name: str, started: datetime, *, ok: bool, summary: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        session.add(
            JobRun(
                name=name,
                started_at=started,
                finished_at=runtime.clock(),
                ok=ok,
                summary=summary[:400],
            )
        )


def last_runs(runtime: Runtime) -> dict[str, JobRun]:
    """The latest run of each job."""
    with unit_of_work(runtime.sessions) as session:
        latest = (
            select(JobRun.name, func.max(JobRun.id).label("id")).group_by(JobRun.name).subquery()
        )
        rows = session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id)).all()
        return {row.name: row for row in rows}


def _safe(runtime: Runtime, name: str) -> None:
    # A failure is already logged and recorded; the next run tries again.
    with contextlib.suppress(Exception):
        run_job(runtime, name)


def build(runtime: Runtime, *, blocking: bool) -> BlockingScheduler | BackgroundScheduler:
    """A scheduler with every job of the table, each never overlapping itself."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in JOBS.values():
        scheduler.add_job(
            _safe,
            "interval",
            seconds=job.every_seconds,
            args=(runtime, job.name),
            id=job.name,
            name=job.about,
            next_run_time=runtime.clock(),
        )
    return scheduler
