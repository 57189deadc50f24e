"""Who did the callbacks, and every adviser's row: the work by adviser and by team.

A call's team is the office its answering leg was rung for (figures.py counts those). A
callback attempt records no office, so its team comes from the adviser's shifts: the shift
under way when the attempt started; else the latest one begun before it; else (work before
any shift) the adviser's first shift; else the callback's own county.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from callbacks.models import Attempt, Callback
from helpline.settings import Settings
from helpline.statistics.model import Work
from helpline.statistics.sql import local_day
from rota.models import Adviser, Shift


def _shift_office(begun: bool) -> ScalarSelect[str]:
    """The office of the adviser's latest shift begun by the attempt's start (`begun`), or of
    their first shift of all."""
    query = select(Shift.office).where(Shift.adviser_id == Attempt.adviser_id)
    if begun:
        query = query.where(Shift.starts_at <= Attempt.started_at).order_by(Shift.starts_at.desc())
    else:
        query = query.order_by(Shift.starts_at)
    return query.limit(1).correlate(Attempt).scalar_subquery()


def callback_work(
    session: Session, settings: Settings, start: datetime, end: datetime
) -> dict[tuple[int, str], Work]:
    """Per (adviser id, team): callbacks completed by attempts of the range, and parent talk."""
    # The shift under way is found by its adviser and local day, which the database can join
    # on at once; only work off shift needs the slower search of the adviser's shifts.
    covering = aliased(Shift)
    on_shift = and_(
        covering.adviser_id == Attempt.adviser_id,
        covering.day == local_day(Attempt.started_at, literal(settings.timezone.key)),
        covering.starts_at <= Attempt.started_at,
        covering.ends_at > Attempt.started_at,
    )
    team = func.coalesce(
        covering.office, _shift_office(True), _shift_office(False), Callback.office
    )
    attempts = (
        select(
            Attempt.adviser_id.label("adviser_id"),
            team.label("team"),
            Callback.office.label("office"),
            case(
                (and_(Attempt.outcome == "spoke", Callback.status == "completed"), 1), else_=0
            ).label("completed"),
            func.coalesce(Attempt.parent_seconds, 0).label("talk"),
        )
        .join(Callback, Callback.id == Attempt.callback_id)
        .outerjoin(covering, on_shift)
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


def adviser_work(
    session: Session,
    settings: Settings,
    call_work: dict[tuple[int, str], Work],
    start: datetime,
    end: datetime,
) -> dict[tuple[str, str], Work]:
    """Per (adviser's name, team): the calls' work and the callbacks', with a row of zeros for
    each adviser who had a shift in the range and did nothing that counts."""
    by_id: dict[tuple[int, str], Work] = {}
    for part in (call_work, callback_work(session, settings, start, end)):
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
