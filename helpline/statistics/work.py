"""Who did the callbacks, and every adviser's row: the work by adviser and by team.

A call's team is the office its answering leg was rung for (figures.py counts those; the talk
on those legs is counted here). A
callback attempt records no office, so its team comes from the adviser's shifts: the shift
under way when the attempt started; else the latest one begun before it; else (work before
any shift) the adviser's first shift; else the callback's own county.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from callbacks.models import Attempt, Callback
from calls.models import Call, CallLeg
from helpline.settings import Settings
from helpline.statistics.model import TeamHour, Work
from helpline.statistics.sql import local_day, span_sum, week_hour
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


# No adviser's phone rings more than this long after their call arrived (the caller is sent to
# the answer machine after `[routing] max_wait_seconds`), so a leg that began further than this
# inside the range belongs to a call of the range without looking the call up.
LEG_MARGIN = timedelta(days=1)


def leg_talk(
    session: Session, settings: Settings, start: datetime, end: datetime
) -> tuple[dict[tuple[int, str], Work], list[TeamHour]]:
    """Talk on the answering legs of the calls of the range: per (adviser id, team), and per
    team and local hour of the week in which the adviser's phone began to ring."""
    # A leg near either end of the range is checked against its call, among the calls that
    # began near either end (few, and found by their index).
    near_ends = or_(Call.started_at < start + LEG_MARGIN, Call.started_at >= end - LEG_MARGIN)
    calls_near_ends = select(Call.id).where(
        Call.started_at >= start, Call.started_at < end, near_ends
    )
    in_range = CallLeg.call_id.in_(calls_near_ends)
    hour = week_hour(CallLeg.started_at, settings.timezone, start, end + LEG_MARGIN)
    rows = session.execute(
        select(
            CallLeg.adviser_id,
            CallLeg.office,
            hour,
            func.count(CallLeg.ended_at),
            span_sum(CallLeg.accepted_at, CallLeg.ended_at),
        )
        .where(
            CallLeg.accepted_at.is_not(None),
            CallLeg.started_at >= start,
            CallLeg.started_at < end + LEG_MARGIN,
            or_(
                and_(CallLeg.started_at >= start + LEG_MARGIN, CallLeg.started_at < end),
                in_range,
            ),
        )
        .group_by(CallLeg.adviser_id, CallLeg.office, hour)
    ).all()
    talk: dict[tuple[int, str], Work] = {}
    slots: dict[tuple[str, int, int], list[float]] = defaultdict(lambda: [0, 0.0])
    for adviser_id, team, key, answered, seconds in rows:
        talk.setdefault((adviser_id, team), Work()).talk_seconds += float(seconds or 0)
        slot = slots[(team, *divmod(int(key), 24))]
        slot[0] += answered
        slot[1] += float(seconds or 0)
    hours = [
        TeamHour(team, weekday, hour_, int(s[0]), s[1])
        for (team, weekday, hour_), s in sorted(slots.items())
    ]
    return talk, hours


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
