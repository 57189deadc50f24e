"""The statistics of a range of local dates, each family of figures from one GROUP BY query.

Nothing here loops over calls or callbacks: the database counts, and Python only files each
group's counts under its office, team or adviser. See docs/statistics.md for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, select, text, type_coerce
from sqlalchemy.orm import Session

from callbacks.models import Callback
from calls.models import Call
from helpline.settings import Settings
from helpline.statistics.model import (
    ANSWERED,
    OPEN,
    WAITED_UNANSWERED,
    Figures,
    HourOfWeek,
    OfficeCallbacks,
    OfficeCalls,
    TeamHour,
    Work,
)
from helpline.statistics.sql import rows_of, span_at_least, span_sum, span_within
from helpline.statistics.work import adviser_work


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
    call_work = _calls(session, settings, figures)
    _callbacks(session, figures, start, end)
    for (name, team), work in adviser_work(session, call_work, start, end).items():
        figures.advisers[(name, team)] = work
        figures.teams.setdefault(team, Work()).add(work)
    return figures


def _tune(session: Session) -> None:
    """On PostgreSQL, settings for this transaction only that suit a pass over a year of calls.

    Each query reads whole tables of the range into a few thousand groups. With room to hash
    them (work_mem) the calls' pass is aggregated in parallel workers, about three times
    quicker than sorting a million rows; JIT compiling costs seconds and saves nothing here.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
    )


def _calls(session: Session, settings: Settings, figures: Figures) -> dict[tuple[int, str], Work]:
    """One pass over the calls of the range, grouped by county rung, outcome, local hour of the
    week and answering adviser and team. Files the groups under `figures` and returns the calls'
    work per (adviser id, team)."""
    policy = settings.statistics
    # Each count is of rows meeting a plain condition; which of them a group's outcome makes
    # count is decided below, per group, rather than tested on every row.
    rows = rows_of(
        session,
        select(
            Call.office,
            type_coerce(Call.outcome, String),  # the word as stored: no enum to make per group
            Call.week_hour,
            Call.answered_by_id,
            Call.answered_office,
            func.count(),
            func.count().filter(
                span_within(Call.started_at, Call.answered_at, policy.answer_within_s)
            ),
            func.count().filter(
                span_at_least(Call.started_at, Call.ended_at, policy.short_abandon_s)
            ),
            func.count().filter(Call.adviser_rung.is_(True)),
            span_sum(Call.started_at, Call.answered_at),
            func.count(Call.talk_s),
            func.sum(Call.talk_s),
        )
        .where(Call.local_date.between(figures.first, figures.last))
        .group_by(
            Call.office, Call.outcome, Call.week_hour, Call.answered_by_id, Call.answered_office
        ),
    ).all()
    slots: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    team_slots: dict[tuple[str, int, int], list[float]] = defaultdict(lambda: [0, 0.0])
    work: dict[tuple[int, str], Work] = {}
    offices = figures.offices
    for row in rows:
        office, outcome, key, adviser_id, team, count, quick, long, rung, wait, ended, talk = row
        calls = offices.get(office) or offices.setdefault(office, OfficeCalls())
        weekday, hour_ = divmod(key or 0, 24)  # kept with local_date, so never missing here
        slot = slots[(office, weekday, hour_)]
        slot[0] += count
        if outcome is None:
            calls.in_progress += count
        else:
            calls.outcomes[outcome] = calls.outcomes.get(outcome, 0) + count
        # The service level's calls: answered live, abandoned after the short-abandon
        # threshold, or not answered after an adviser was rung (they waited in vain).
        if outcome in ANSWERED:
            calls.service_level_calls += count
            calls.answered_within_t += quick
            calls.wait_of_answered_s += float(wait or 0)
            slot[1] += count
        elif outcome == "abandoned":
            calls.service_level_calls += long
        elif outcome in WAITED_UNANSWERED:
            calls.service_level_calls += rung
        if team is not None and ended:
            # The answering legs that have ended, under the team and the hour the call came in.
            team_slot = team_slots[(team, weekday, hour_)]
            team_slot[0] += ended
            team_slot[1] += float(talk or 0)
        if adviser_id is not None and team is not None:
            mine = work.setdefault((adviser_id, team), Work())
            mine.talk_seconds += float(talk or 0)
            if outcome in ANSWERED:
                mine.calls_answered += count
                if team != office:
                    mine.calls_answered_for_partner += count
    figures.hour_of_week = [
        HourOfWeek(office, weekday, hour_, s[0], s[1])
        for (office, weekday, hour_), s in sorted(slots.items())
    ]
    figures.team_hours = [
        TeamHour(team, weekday, hour_, int(s[0]), s[1])
        for (team, weekday, hour_), s in sorted(team_slots.items())
    ]
    return work


def _callbacks(session: Session, figures: Figures, start: datetime, end: datetime) -> None:
    rows = rows_of(
        session,
        select(
            Callback.office,
            type_coerce(Callback.status, String),
            func.count(),
            func.count().filter(Callback.first_attempt_at <= Callback.due_at),
        )
        .where(Callback.created_at >= start, Callback.created_at < end)
        .group_by(Callback.office, Callback.status),
    ).all()
    for office, status, count, within in rows:
        state = "open" if status in OPEN else status
        found = figures.callbacks.setdefault(office, OfficeCallbacks())
        found.statuses[state] = found.statuses.get(state, 0) + count
        found.first_attempt_within_promise += within
    oldest = rows_of(
        session,
        select(Callback.office, func.min(Callback.created_at))
        .where(Callback.status.in_(OPEN))
        .group_by(Callback.office),
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
