"""The statistics of a range of local dates, each family of figures from one GROUP BY query.

Nothing here loops over calls or callbacks: the database counts, and Python only files each
group's counts under its office, team or adviser. See docs/statistics.md for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, select, text
from sqlalchemy.orm import Session

from callbacks.models import Attempt, Callback
from calls.models import Call, CallLeg
from helpline.settings import Settings
from helpline.statistics.model import (
    ANSWERED,
    OPEN,
    WAITED_UNANSWERED,
    Figures,
    HourOfWeek,
    OfficeCallbacks,
    OfficeCalls,
    Work,
)
from helpline.statistics.sql import span_at_least, span_sum, span_within
from helpline.statistics.work import adviser_work, leg_talk


def instant_range(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants from local midnight starting `first` to local midnight after `last`."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def collect(session: Session, settings: Settings, first: date, last: date) -> Figures:
    """The figures for calls and callbacks of local dates `first` to `last`, both included."""
    start, end = instant_range(first, last, settings.timezone)
    keys = list(settings.offices)
    figures = Figures(
        first=first,
        last=last,
        offices={k: OfficeCalls() for k in keys},
        callbacks={k: OfficeCallbacks() for k in keys},
        teams={k: Work() for k in keys},
        advisers={},
        hour_of_week=[],
        answer_within_s=settings.statistics.answer_within_s,
        short_abandon_s=settings.statistics.short_abandon_s,
    )
    _tune(session)
    call_work = _calls(session, settings, figures, start, end)
    _callbacks(session, figures, start, end)
    for (name, team), work in adviser_work(session, settings, call_work, start, end).items():
        figures.advisers[(name, team)] = work
        figures.teams.setdefault(team, Work()).add(work)
    return figures


def _tune(session: Session) -> None:
    """On PostgreSQL, settings for this transaction only that suit a pass over a year of calls.

    Each query reads whole tables of the range into a few thousand groups. With room to hash
    them (work_mem) the calls' pass is aggregated in parallel workers, about three times
    quicker than sorting a million rows; the attempts are joined to the shifts by hashing
    rather than one probe at a time; JIT compiling costs seconds and saves nothing here.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for setting in ("jit = off", "work_mem = '64MB'", "enable_nestloop = off"):
        session.execute(text(f"SET LOCAL {setting}"))


def _calls(
    session: Session, settings: Settings, figures: Figures, start: datetime, end: datetime
) -> dict[tuple[int, str], Work]:
    """One pass over the calls of the range, grouped by county rung, outcome, local hour of the
    week and answering adviser, then one over the answering legs for talk. Files the groups
    under `figures` and returns the calls' work per (adviser id, team)."""
    policy = settings.statistics
    answered = Call.outcome.in_(ANSWERED)
    measured = case(
        (answered, 1),
        (
            and_(
                Call.outcome == "abandoned",
                span_at_least(Call.started_at, Call.ended_at, policy.short_abandon_s),
            ),
            1,
        ),
        else_=0,
    )
    within_t = and_(
        answered, span_within(Call.started_at, Call.answered_at, policy.answer_within_s)
    )
    hour = Call.week_hour
    in_range = Call.local_date.between(figures.first, figures.last)
    rows = session.execute(
        select(
            Call.office,
            Call.outcome,
            hour,
            Call.answered_by_id,
            Call.answered_office,
            func.count(),
            func.sum(case((within_t, 1), else_=0)),
            func.sum(measured),
            span_sum(Call.started_at, Call.answered_at),
        )
        .where(in_range)
        .group_by(Call.office, Call.outcome, hour, Call.answered_by_id, Call.answered_office)
    ).all()
    # Unanswered calls for which an adviser was rung, apart: a test of each call's legs inside
    # the pass above would keep PostgreSQL from sharing that pass among its workers.
    waited = session.execute(
        select(Call.office, func.count())
        .where(
            in_range,
            Call.outcome.in_(WAITED_UNANSWERED),
            exists().where(CallLeg.call_id == Call.id),
        )
        .group_by(Call.office)
    ).all()
    for office, count in waited:
        figures.offices.setdefault(office, OfficeCalls()).service_level_calls += count
    slots: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    work: dict[tuple[int, str], Work] = {}
    for office, outcome, key, adviser_id, team, count, within, counted, waited in rows:
        calls = figures.offices.setdefault(office, OfficeCalls())
        if outcome is None:
            calls.in_progress += count
        else:
            calls.outcomes[outcome] = calls.outcomes.get(outcome, 0) + count
        calls.answered_within_t += int(within or 0)
        calls.service_level_calls += int(counted or 0)
        slot = slots[(office, *divmod(int(key), 24))]
        slot[0] += count
        if outcome in ANSWERED:
            calls.wait_of_answered_s += float(waited or 0)
            slot[1] += count
            if adviser_id is not None and team is not None:
                mine = work.setdefault((adviser_id, team), Work())
                mine.calls_answered += count
                if team != office:
                    mine.calls_answered_for_partner += count
    figures.hour_of_week = [
        HourOfWeek(office, weekday, hour_, s[0], s[1])
        for (office, weekday, hour_), s in sorted(slots.items())
    ]
    talk, figures.team_hours = leg_talk(session, settings, start, end)
    for key, spoken in talk.items():
        work.setdefault(key, Work()).add(spoken)
    return work


def _callbacks(session: Session, figures: Figures, start: datetime, end: datetime) -> None:
    first_placed = (
        select(Attempt.callback_id, func.min(Attempt.started_at).label("at"))
        .where(Attempt.placed.is_(True))
        .group_by(Attempt.callback_id)
        .subquery()
    )
    status = case((Callback.status.in_(OPEN), literal("open")), else_=Callback.status)
    rows = session.execute(
        select(
            Callback.office,
            status,
            func.count(),
            func.sum(case((first_placed.c.at <= Callback.due_at, 1), else_=0)),
        )
        .outerjoin(first_placed, first_placed.c.callback_id == Callback.id)
        .where(Callback.created_at >= start, Callback.created_at < end)
        .group_by(Callback.office, status)
    ).all()
    for office, state, count, within in rows:
        found = figures.callbacks.setdefault(office, OfficeCallbacks())
        found.statuses[state] = found.statuses.get(state, 0) + count
        found.first_attempt_within_promise += int(within or 0)
    oldest = session.execute(
        select(Callback.office, func.min(Callback.created_at))
        .where(Callback.status.in_(OPEN))
        .group_by(Callback.office)
    ).all()
    for office, created in oldest:
        found = figures.callbacks.setdefault(office, OfficeCallbacks())
        found.oldest_open_created_at = _utc(created)


def _utc(value: datetime | str | None) -> datetime | None:
    # An aggregate's result skips the column type, so SQLite hands back its text.
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
