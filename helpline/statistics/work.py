"""Who did the work: calls answered and callbacks completed, by adviser and by team.

A call's team is the office its answering leg was rung for, which is the office of the shift
the adviser was on. A callback attempt records no office, so its team is found from the
adviser's shifts: the shift under way when the attempt started, else the latest one begun
before it, else (work before any shift) the adviser's first shift.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from callbacks.models import Attempt, Callback
from calls.models import Call, CallLeg
from helpline.statistics.model import ANSWERED, Work
from helpline.statistics.sql import hour_number, seconds_between
from rota.models import Adviser, Shift


def _leg_talk() -> ColumnElement[float]:
    return case(
        (CallLeg.ended_at.is_not(None), seconds_between(CallLeg.accepted_at, CallLeg.ended_at)),
        else_=0.0,
    )


def call_work(session: Session, start: datetime, end: datetime) -> dict[tuple[int, str], Work]:
    """Per (adviser id, team): calls of the range answered, for the partner, and their talk."""
    answered_here = and_(Call.outcome.in_(ANSWERED), Call.answered_by_id == CallLeg.adviser_id)
    rows = session.execute(
        select(
            CallLeg.adviser_id,
            CallLeg.office,
            func.sum(case((answered_here, 1), else_=0)),
            func.sum(case((and_(answered_here, Call.office != CallLeg.office), 1), else_=0)),
            func.sum(_leg_talk()),
        )
        .join(Call, Call.id == CallLeg.call_id)
        .where(
            Call.started_at >= start,
            Call.started_at < end,
            CallLeg.accepted_at.is_not(None),
        )
        .group_by(CallLeg.adviser_id, CallLeg.office)
    ).all()
    return {
        (adviser, team): Work(
            calls_answered=int(answered or 0),
            calls_answered_for_partner=int(partner or 0),
            talk_seconds=float(talk or 0),
        )
        for adviser, team, answered, partner, talk in rows
    }


def _shift_office(begun: bool) -> ScalarSelect[str]:
    """The office of the adviser's latest shift begun by the attempt's start (`begun`), or of
    their first shift of all."""
    query = select(Shift.office).where(Shift.adviser_id == Attempt.adviser_id)
    if begun:
        query = query.where(Shift.starts_at <= Attempt.started_at).order_by(Shift.starts_at.desc())
    else:
        query = query.order_by(Shift.starts_at)
    return query.limit(1).correlate(Attempt).scalar_subquery()


def callback_work(session: Session, start: datetime, end: datetime) -> dict[tuple[int, str], Work]:
    """Per (adviser id, team): callbacks completed by attempts of the range, and parent talk."""
    attempts = (
        select(
            Attempt.adviser_id.label("adviser_id"),
            func.coalesce(_shift_office(True), _shift_office(False), Callback.office).label("team"),
            Callback.office.label("office"),
            case(
                (and_(Attempt.outcome == "spoke", Callback.status == "completed"), 1), else_=0
            ).label("completed"),
            func.coalesce(Attempt.parent_seconds, 0).label("talk"),
        )
        .join(Callback, Callback.id == Attempt.callback_id)
        .where(
            Attempt.adviser_id.is_not(None),
            Attempt.started_at >= start,
            Attempt.started_at < end,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            attempts.c.adviser_id,
            attempts.c.team,
            func.sum(attempts.c.completed),
            func.sum(case((attempts.c.office != attempts.c.team, attempts.c.completed), else_=0)),
            func.sum(attempts.c.talk),
        ).group_by(attempts.c.adviser_id, attempts.c.team)
    ).all()
    return {
        (adviser, team): Work(
            callbacks_completed=int(done or 0),
            callbacks_completed_for_partner=int(partner or 0),
            talk_seconds=float(talk or 0),
        )
        for adviser, team, done, partner, talk in rows
    }


def adviser_work(session: Session, start: datetime, end: datetime) -> dict[tuple[str, str], Work]:
    """Per (adviser's name, team): all the work of the range, with a row of zeros for each
    adviser who had a shift in the range and did nothing that counts."""
    by_id: dict[tuple[int, str], Work] = {}
    for part in (call_work(session, start, end), callback_work(session, start, end)):
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


def hourly_talk(session: Session, start: datetime, end: datetime) -> dict[tuple[str, int], float]:
    """Talk on answered calls per (county rung, UTC hour number of the call's start)."""
    hour = hour_number(Call.started_at)
    rows = session.execute(
        select(Call.office, hour, func.sum(_leg_talk()))
        .join(CallLeg, CallLeg.call_id == Call.id)
        .where(
            Call.started_at >= start,
            Call.started_at < end,
            CallLeg.accepted_at.is_not(None),
            Call.outcome.in_(ANSWERED),
        )
        .group_by(Call.office, hour)
    ).all()
    return {(office, number): float(talk or 0) for office, number, talk in rows}
