"""The statistics of a range of local dates, each family of figures from one GROUP BY query.

Nothing here loops over calls or callbacks: the database counts, and Python only files each
group's counts under its office, team or adviser. See docs/statistics.md for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, select
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
from helpline.statistics.sql import hour_number, seconds_between
from helpline.statistics.work import adviser_work, hourly_talk


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
    _call_outcomes(session, settings, figures, start, end)
    _callbacks(session, figures, start, end)
    _advisers(session, figures, start, end)
    _hour_of_week(session, settings, figures, start, end)
    return figures


def _call_outcomes(
    session: Session, settings: Settings, figures: Figures, start: datetime, end: datetime
) -> None:
    policy = settings.statistics
    wait = seconds_between(Call.started_at, Call.answered_at)
    rung = exists().where(CallLeg.call_id == Call.id)
    answered = Call.outcome.in_(ANSWERED)
    measured = case(
        (answered, 1),
        (
            and_(
                Call.outcome == "abandoned",
                seconds_between(Call.started_at, Call.ended_at) >= policy.short_abandon_s,
            ),
            1,
        ),
        (and_(Call.outcome.in_(WAITED_UNANSWERED), rung), 1),
        else_=0,
    )
    rows = session.execute(
        select(
            Call.office,
            Call.outcome,
            func.count(),
            func.sum(case((and_(answered, wait <= policy.answer_within_s), 1), else_=0)),
            func.sum(measured),
            func.sum(case((answered, wait), else_=0.0)),
        )
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Call.office, Call.outcome)
    ).all()
    for office, outcome, count, within, counted, waited in rows:
        calls = figures.offices.setdefault(office, OfficeCalls())
        if outcome is None:
            calls.in_progress += count
        else:
            calls.outcomes[outcome] = calls.outcomes.get(outcome, 0) + count
        calls.answered_within_t += int(within or 0)
        calls.service_level_calls += int(counted or 0)
        calls.wait_of_answered_s += float(waited or 0)


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


def _advisers(session: Session, figures: Figures, start: datetime, end: datetime) -> None:
    for (name, team), work in adviser_work(session, start, end).items():
        figures.advisers[(name, team)] = work
        figures.teams.setdefault(team, Work()).add(work)


def _hour_of_week(
    session: Session, settings: Settings, figures: Figures, start: datetime, end: datetime
) -> None:
    hour = hour_number(Call.started_at)
    rows = session.execute(
        select(
            Call.office,
            hour,
            func.count(),
            func.sum(case((Call.outcome.in_(ANSWERED), 1), else_=0)),
        )
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Call.office, hour)
    ).all()
    talk = hourly_talk(session, start, end)
    slots: dict[tuple[str, int, int], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for office, number, received, answered in rows:
        local = datetime.fromtimestamp(number * 3600, UTC).astimezone(settings.timezone)
        slot = slots[(office, local.weekday(), local.hour)]
        slot[0] += received
        slot[1] += int(answered or 0)
        slot[2] += talk.get((office, number), 0.0)
    figures.hour_of_week = [
        HourOfWeek(office, weekday, hour_, int(s[0]), int(s[1]), s[2])
        for (office, weekday, hour_), s in sorted(slots.items())
    ]
