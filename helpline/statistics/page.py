"""What the statistics page shows: the contract's figures, the weekly plan and what pooling
saves, gathered in one call from a range of local dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from helpline.settings import Settings
from helpline.statistics.figures import collect
from helpline.statistics.planner import POOLED, HourPlan, weekly_plan
from helpline.statistics.report import as_csv, as_json


@dataclass(frozen=True)
class PlanHour:
    """One local hour of the week: advisers needed by each county alone and by the pool."""

    weekday: int
    hour: int
    apart: dict[str, int | None]  # office key -> advisers needed on its own
    pooled: int | None

    @property
    def apart_total(self) -> int | None:
        """Advisers the counties need between them, each staffing its own calls."""
        counts = list(self.apart.values())
        if any(n is None for n in counts):
            return None
        return sum(n for n in counts if n is not None)

    @property
    def saving(self) -> int | None:
        """Advisers that answering both counties' calls together saves in this hour."""
        apart = self.apart_total
        return None if apart is None or self.pooled is None else apart - self.pooled


@dataclass
class StatsPage:
    """The page's figures (the contract's JSON), its CSV and the plan per hour of the week."""

    data: dict[str, Any]
    offices: list[str]
    plan: list[PlanHour] = field(default_factory=list)
    target: float = 0.8

    @property
    def peak(self) -> PlanHour | None:
        """The hour the counties apart need most advisers (the earliest such hour)."""
        known = [h for h in self.plan if h.apart_total is not None and h.saving is not None]
        return max(known, key=lambda h: h.apart_total or 0, default=None)

    @property
    def weekly_saving(self) -> int:
        """Adviser-hours a week that pooling saves over the hours that could be planned."""
        return sum(h.saving or 0 for h in self.plan)


def plan_hours(plans: list[HourPlan], offices: list[str]) -> list[PlanHour]:
    """The weekly plan's rows regrouped by hour of the week: each county's need and the pool's.
    A county without calls in an hour needs nobody then."""
    by_hour: dict[tuple[int, int], dict[str, int | None]] = {}
    for made in plans:
        slot = by_hour.setdefault((made.weekday, made.hour), dict.fromkeys(offices, 0))
        slot[made.scope] = made.advisers_needed
    return [
        PlanHour(weekday, hour, {k: found[k] for k in offices}, found.get(POOLED))
        for (weekday, hour), found in sorted(by_hour.items())
    ]


def gather(
    session: Session,
    settings: Settings,
    first: date,
    last: date,
    office: str | None,
    target: float,
) -> StatsPage:
    """The figures of local dates `first` to `last` (one county's with `office`) and the plan
    of both counties, alone and pooled, for `target` answered within the settings' T."""
    figures = collect(session, settings, first, last)
    offices = list(settings.offices)
    plans = weekly_plan(
        figures.hour_of_week,
        figures.team_hours,
        first,
        last,
        answer_within_s=figures.answer_within_s,
        target=target,
    )
    return StatsPage(as_json(figures, office), offices, plan_hours(plans, offices), target)


def csv_of(
    session: Session, settings: Settings, first: date, last: date, office: str | None
) -> str:
    """The CSV that `helpline stats --csv` prints for the same range and county."""
    return as_csv(as_json(collect(session, settings, first, last), office))
