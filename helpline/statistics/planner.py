"""Advisers needed in each hour of the week, from the arrivals and handle times observed. Pure.

For each county alone and for both pooled into one stream: arrivals per hour are the calls to
its number seen in that local hour of the week divided by how many times the range holds that
weekday, and the handle time is the talk per call its own team answered in that hour (or, with
none answered then, over the whole range); the pool takes both teams' talk. Comparing the
pooled row with the counties' rows shows what pooling saves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from helpline.statistics.erlang import plan
from helpline.statistics.model import HourOfWeek, TeamHour

POOLED = "pooled"


@dataclass(frozen=True)
class HourPlan:
    """One scope (a county, or `pooled`) in one local hour of the week (Monday = 0)."""

    scope: str
    weekday: int
    hour: int
    calls_per_hour: float
    handle_seconds: float | None  # None: no answered call to measure it by
    traffic_erlangs: float
    advisers_needed: int | None
    service_level: float | None  # what that many advisers give


def weekday_counts(first: date, last: date) -> dict[int, int]:
    """How many of each weekday (Monday = 0) the dates `first` to `last` hold."""
    counts = dict.fromkeys(range(7), 0)
    days = (last - first).days + 1
    for offset in range(min(days, 7)):
        weekday = (first + timedelta(days=offset)).weekday()
        counts[weekday] = len(range(offset, days, 7))
    return counts


def _totals(rows: Iterable[TeamHour]) -> tuple[int, float]:
    rows = list(rows)
    return sum(r.calls_answered for r in rows), sum(r.talk_seconds for r in rows)


def _plan_scope(
    scope: str,
    rows: list[HourOfWeek],
    work: list[TeamHour],
    weeks: dict[int, int],
    answer_within_s: float,
    target: float,
) -> list[HourPlan]:
    answered_all, talk_all = _totals(work)
    fallback = talk_all / answered_all if answered_all else None
    slots: dict[tuple[int, int], list[HourOfWeek]] = defaultdict(list)
    for row in rows:
        slots[(row.weekday, row.hour)].append(row)
    handled: dict[tuple[int, int], list[TeamHour]] = defaultdict(list)
    for done in work:
        handled[(done.weekday, done.hour)].append(done)
    plans = []
    for (weekday, hour), found in sorted(slots.items()):
        if not weeks.get(weekday):
            continue
        per_hour = sum(r.received for r in found) / weeks[weekday]
        answered, talk = _totals(handled.get((weekday, hour), []))
        handle = talk / answered if answered and talk else fallback
        if handle is None or handle <= 0:
            plans.append(HourPlan(scope, weekday, hour, per_hour, None, 0.0, None, None))
            continue
        made = plan(per_hour, handle, answer_within_s, target)
        needed = next((row for row in made.table if row.advisers == made.advisers_needed), None)
        plans.append(
            HourPlan(
                scope,
                weekday,
                hour,
                per_hour,
                handle,
                made.traffic_erlangs,
                made.advisers_needed,
                needed.service_level if needed else None,
            )
        )
    return plans


def weekly_plan(
    hours: Iterable[HourOfWeek],
    team_hours: Iterable[TeamHour],
    first: date,
    last: date,
    *,
    answer_within_s: float,
    target: float,
) -> list[HourPlan]:
    """The plan for every hour of the week that saw calls: each county, then both pooled."""
    rows, work = list(hours), list(team_hours)
    weeks = weekday_counts(first, last)
    plans: list[HourPlan] = []
    for office in sorted({r.office for r in rows}):
        mine = [r for r in rows if r.office == office]
        team = [t for t in work if t.team == office]
        plans += _plan_scope(office, mine, team, weeks, answer_within_s, target)
    plans += _plan_scope(POOLED, rows, work, weeks, answer_within_s, target)
    return plans
