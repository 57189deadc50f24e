"""The prune-job-runs job: the scheduler's record of its runs is kept for a set time.

Every run of every job writes a row to `job_run` (some 5,400 a day for one clock). Rows that
started more than `retention.job_run_days` ago are deleted, except the latest run of each job,
which `helpline jobs list` shows and the health check reads, however old it is. Rows go in
batches, each in a short transaction of its own, so the first run on a long-grown table holds
no long transaction; running the job again deletes nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import Pruned
from callbacks.jobkit import JobContext
from callbacks.models import JobRun
from helpline.db import unit_of_work

PRUNE_BATCH = 2000


def prune_job_runs(sessions: sessionmaker[Session], ctx: JobContext, now: datetime) -> Pruned:
    """Delete the runs that started `job_run_days` ago, keeping each job's latest run."""
    days = ctx.settings.retention.job_run_days
    cutoff = now - timedelta(days=days)
    with unit_of_work(sessions) as session:
        latest = set(session.scalars(select(func.max(JobRun.id)).group_by(JobRun.name)))
    deleted = 0
    while True:
        with unit_of_work(sessions) as session:
            batch = _delete_batch(session, cutoff, latest)
        deleted += batch
        if batch < PRUNE_BATCH:
            return Pruned(deleted=deleted, days=days)


def _delete_batch(session: Session, cutoff: datetime, keep: set[int]) -> int:
    """Delete up to PRUNE_BATCH of the oldest runs started before `cutoff`; how many went."""
    oldest = (
        select(JobRun.id)
        .where(JobRun.started_at < cutoff, JobRun.id.not_in(keep))
        .order_by(JobRun.id)
        .limit(PRUNE_BATCH)
    )
    gone = delete(JobRun).where(JobRun.id.in_(oldest)).execution_options(synchronize_session=False)
    result = cast("CursorResult[Any]", session.execute(gone))
    return result.rowcount
