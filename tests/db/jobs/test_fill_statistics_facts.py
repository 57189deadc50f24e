"""fill-statistics-facts: rows written by a process still running the code of before a release
(a call ended, an attempt started or placed without what the statistics read) are given it,
and the figures are those the service would have kept itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callbacks.job_results import FactsFilled, JobResult
from callbacks.models import Attempt, Callback
from callbacks.statistics_facts import fill_statistics_facts
from calls.models import Call
from tests.constants import ANN, HEREFORD, WORCS, london
from tests.db.test_retention_statistics import FIRST, LAST, fortnight, stats
from tests.factories import adviser, make_settings, played_call

WAITED = london(FIRST + timedelta(days=1), 16)  # a Tuesday afternoon


def forget_facts(session: Session) -> None:
    """What a row written by the code of before lacks."""
    session.execute(update(Call).values(adviser_rung=False, talk_s=None))
    session.execute(update(Callback).values(first_attempt_at=None))
    session.execute(update(Attempt).values(office=None, team=None))
    session.expire_all()


def test_recent_rows_without_the_facts_get_them_and_the_figures_are_as_kept(
    session: Session, run: Callable[..., JobResult]
) -> None:
    fortnight(session)
    played_call(session, make_settings(), "CA" + "w1" * 16, WORCS, WAITED, machine_after=40)
    before = stats(session)
    forget_facts(session)
    assert stats(session) != before

    # The job runs every hour; each row is within its two days' look-back of some run.
    days = (LAST - FIRST).days + 4
    runs = [run(fill_statistics_facts, london(FIRST + timedelta(days=d), 23)) for d in range(days)]

    assert stats(session) == before
    assert all(isinstance(r, FactsFilled) for r in runs)
    assert sum(r.calls for r in runs if isinstance(r, FactsFilled)) > 0
    assert sum(r.attempts for r in runs if isinstance(r, FactsFilled)) > 0
    assert sum(r.callbacks for r in runs if isinstance(r, FactsFilled)) > 0
    again = run(fill_statistics_facts, london(LAST, 23))
    assert again == FactsFilled(calls=0, attempts=0, callbacks=0)


def test_rows_older_than_two_days_are_left_alone(
    session: Session, run: Callable[..., JobResult]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", WAITED.date())
    played_call(session, make_settings(), "CA" + "o1" * 16, HEREFORD, WAITED, hang_up_after=30)
    forget_facts(session)

    assert run(fill_statistics_facts, WAITED + timedelta(days=3)) == FactsFilled(0, 0, 0)
    assert session.get_one(Call, session.scalar(select(Call.id))).adviser_rung is False
