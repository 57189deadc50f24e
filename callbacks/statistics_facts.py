"""The fill-statistics-facts job: what the statistics read from each row, put right where a
row was written without it.

The service keeps on each row, as things happen, what the figures need (calls/service.py
`call_ended` and `end_leg`, callbacks/attempts.py `new_attempt` and `placed`). A process still
running the code of before, while a release rolls out, writes rows without those facts; the
migration that introduced them has already filled in the rows before it. This job fills in,
from the legs, attempts and shifts, any fact missing on the rows of the last two days, by the
same rules, so that no such row is left out of the figures. Running it again changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from callbacks.job_results import FactsFilled
from callbacks.jobkit import JobContext
from callbacks.models import Attempt, Callback
from calls.models import Call, CallLeg
from rota import teams

LOOK_BACK = timedelta(days=2)


def fill_statistics_facts(session: Session, ctx: JobContext, now: datetime) -> FactsFilled:
    """Fill in the facts missing on the calls and attempts of the last two days."""
    since = now - LOOK_BACK
    return FactsFilled(
        calls=_calls(session, since),
        attempts=_attempts(session, since),
        callbacks=_first_attempts(session, since),
    )


def _calls(session: Session, since: datetime) -> int:
    filled = 0
    rung = session.scalars(
        select(Call).where(
            Call.started_at >= since,
            Call.ended_at.is_not(None),
            Call.adviser_rung.is_(False),
            exists().where(CallLeg.call_id == Call.id),
        )
    )
    for call in rung:
        call.adviser_rung = True
        filled += 1
    answering = session.scalars(
        select(CallLeg)
        .join(Call, Call.id == CallLeg.call_id)
        .where(
            Call.started_at >= since,
            Call.talk_s.is_(None),
            CallLeg.accepted_at.is_not(None),
            CallLeg.ended_at.is_not(None),
        )
    )
    for leg in answering:
        if leg.accepted_at is not None and leg.ended_at is not None:  # as the query asked
            leg.call.talk_s = (leg.ended_at - leg.accepted_at).total_seconds()
            filled += 1
    return filled


def _attempts(session: Session, since: datetime) -> int:
    unfiled = session.scalars(
        select(Attempt).where(
            Attempt.started_at >= since,
            or_(
                Attempt.office.is_(None), (Attempt.team.is_(None) & Attempt.adviser_id.is_not(None))
            ),
        )
    ).all()
    for attempt in unfiled:
        attempt.office = attempt.callback.office
        if attempt.adviser_id is not None and attempt.team is None:
            team = teams.team_at(session, attempt.adviser_id, attempt.started_at)
            attempt.team = team or attempt.office
    return len(unfiled)


def _first_attempts(session: Session, since: datetime) -> int:
    placed = session.scalars(
        select(Attempt)
        .join(Callback, Callback.id == Attempt.callback_id)
        .where(
            Attempt.started_at >= since,
            Attempt.placed.is_(True),
            or_(
                Callback.first_attempt_at.is_(None),
                Callback.first_attempt_at > Attempt.started_at,
            ),
        )
        .order_by(Attempt.started_at)
    ).all()
    filled = set()
    for attempt in placed:
        callback = attempt.callback
        if callback.first_attempt_at is None or attempt.started_at < callback.first_attempt_at:
            callback.first_attempt_at = attempt.started_at
            filled.add(callback.id)
    return len(filled)
