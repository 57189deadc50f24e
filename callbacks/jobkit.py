"""What every scheduled job is given, how it claims its rows, and how it is run.

A job is run with a session factory: most jobs do all their work in one transaction
(`in_transaction`); the jobs that call Twilio open short transactions of their own, so that
no transaction, and on SQLite no write lock, is held while Twilio answers.

Each job returns what it did as counts (a `JobResult`, in callbacks.job_results).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import JobResult
from helpline.db import unit_of_work
from helpline.dialer import Dialer
from helpline.settings import Settings

ACTOR = "scheduler"
BATCH = 500
T = TypeVar("T")
R = TypeVar("R", bound=JobResult)


class AuditLog(Protocol):
    """Writes one entry of the staff audit log for a job (the accounts domain keeps the log;
    the scheduler hands jobs its writer, so that the queue need not know of accounts)."""

    def __call__(
        self,
        session: Session,
        job: str,
        action: str,
        subject_type: str,
        subject_id: object | None,
        detail: dict[str, Any],
        *,
        at: datetime,
    ) -> None:
        """Add the entry (flushed, not committed), naming the job as the actor."""
        ...


class NoAuditLog(RuntimeError):
    """A job that must audit what it does was run without the audit log's writer."""


@dataclass(frozen=True)
class JobContext:
    """What a job may use besides the session and the time."""

    settings: Settings
    dialer: Dialer
    audit: AuditLog | None = None

    def audit_log(self) -> AuditLog:
        """The audit log's writer, for a job that deletes or replaces personal data."""
        if self.audit is None:
            raise NoAuditLog("this job audits what it does: run it through the scheduler")
        return self.audit


Runner = Callable[[sessionmaker[Session], JobContext, datetime], JobResult]


def in_transaction(
    job: Callable[[Session, JobContext, datetime], R],
) -> Callable[[sessionmaker[Session], JobContext, datetime], R]:
    """Run a job that claims and writes in one transaction, committed when it returns."""

    def run(sessions: sessionmaker[Session], ctx: JobContext, now: datetime) -> R:
        with unit_of_work(sessions) as session:
            return job(session, ctx, now)

    run.__doc__ = job.__doc__
    return run


def claim(session: Session, query: Select[T], limit: int = BATCH) -> Sequence[T]:
    """The query's first `limit` rows, locked; rows another clock holds are skipped."""
    return session.scalars(query.limit(limit).with_for_update(skip_locked=True)).all()
