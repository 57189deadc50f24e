"""Fixtures for the tests on a database: running a scheduled job as the scheduler does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.audit import record_for_job
from callbacks.job_results import JobResult
from callbacks.jobkit import Runner, in_transaction
from callbacks.jobs import JobContext, delete_recordings, pseudonymise_numbers, reconcile_recordings
from helpline.dialer import LoggingDialer
from helpline.settings import Settings
from tests.conftest import BACKENDS, empty_database

Job = Callable[[Session, JobContext, datetime], JobResult] | Runner


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, to migrate step by step."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def run(
    sessions: sessionmaker[Session], session: Session, settings: Settings
) -> Callable[..., JobResult]:
    """Run a job in a session of its own, as the scheduler does, then let the test look again."""

    def run_once(
        job: Job,
        now: datetime,
        *,
        with_settings: Settings | None = None,
        dialer: Any = None,
    ) -> JobResult:
        session.flush()
        ctx = JobContext(with_settings or settings, dialer or LoggingDialer(), record_for_job)
        # The jobs that call Twilio, and those that work in batches, open their own
        # transactions; the others get one.
        own = (reconcile_recordings, delete_recordings, pseudonymise_numbers)
        runner = job if job in own else in_transaction(job)
        result = runner(sessions, ctx, now)
        session.expire_all()
        return result

    return run_once
