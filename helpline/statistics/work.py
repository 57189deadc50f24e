"""Who did the callbacks, and every adviser's row: the work by adviser and by team.

A call's team is the office its answering leg was rung for (figures.py counts those, with the
talk kept on each call). An attempt's team is kept on it when it starts (rota.teams: the
adviser's shift under way, else the latest begun, else their first; else the callback's own
county).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from callbacks.models import WORK_ATTEMPT, Attempt
from helpline.statistics.model import Work
from helpline.statistics.sql import rows_of
from rota.models import Adviser, Shift


def callback_work(session: Session, start: datetime, end: datetime) -> dict[tuple[int, str], Work]:
    """Per (adviser id, team): callbacks completed by attempts of the range (an attempt in
    which the adviser spoke to the parent completes its callback), and the parent's time."""
    spoke = Attempt.outcome == "spoke"
    rows = rows_of(
        session,
        select(
            Attempt.adviser_id,
            Attempt.team,
            func.count().filter(spoke),
            func.count().filter(spoke, Attempt.office != Attempt.team),
            func.sum(Attempt.parent_seconds),
        )
        .where(
            text(WORK_ATTEMPT),  # the others complete nothing and add no time
            Attempt.started_at >= start,
            Attempt.started_at < end,
        )
        .group_by(Attempt.adviser_id, Attempt.team),
    ).all()
    return {
        (adviser, team): Work(
            callbacks_completed=int(done or 0),
            callbacks_completed_for_partner=int(partner or 0),
            talk_seconds=float(talk or 0),
        )
        for adviser, team, done, partner, talk in rows
        if adviser is not None and team is not None
    }


def adviser_work(
    session: Session,
    call_work: dict[tuple[int, str], Work],
    start: datetime,
    end: datetime,
) -> dict[tuple[str, str], Work]:
    """Per (adviser's name, team): the calls' work and the callbacks', with a row of zeros for
    each adviser who had a shift in the range and did nothing that counts."""
    by_id: dict[tuple[int, str], Work] = {}
    for part in (call_work, callback_work(session, start, end)):
        for key, work in part.items():
            by_id.setdefault(key, Work()).add(work)
    on_shift = session.execute(
        select(Shift.adviser_id, Shift.office)
        .where(Shift.starts_at < end, Shift.ends_at > start)
        .distinct()
    ).all()
    for adviser_id, office in on_shift:
        by_id.setdefault((adviser_id, office), Work())
    names = dict(
        session.execute(
            select(Adviser.id, Adviser.name).where(Adviser.id.in_({a for a, _ in by_id}))
        ).all()
    )
    named: dict[tuple[str, str], Work] = {}
    for (adviser_id, team), work in by_id.items():
        named.setdefault((names.get(adviser_id, f"adviser {adviser_id}"), team), Work()).add(work)
    return named
