"""The statistics page's pure parts: the charts' shapes and the plan regrouped by hour."""

from __future__ import annotations

from typing import Any

from helpline.statistics.charts import BAR_W, outcome_bars, week_grid, week_heat
from helpline.statistics.page import PlanHour, StatsPage, plan_hours
from helpline.statistics.planner import POOLED, HourPlan

NAMES = {"herefordshire": "Herefordshire", "worcestershire": "Worcestershire"}


def data(**calls: dict[str, int]) -> dict[str, Any]:
    """The part of the contract's JSON the charts read."""
    return {
        "offices": {key: {"calls": found} for key, found in calls.items()},
        "hour_of_week": [
            {"office": "herefordshire", "weekday": 0, "hour": 10, "received": 4, "answered": 3},
            {"office": "herefordshire", "weekday": 2, "hour": 9, "received": 1, "answered": 1},
            {"office": "worcestershire", "weekday": 0, "hour": 10, "received": 7, "answered": 7},
        ],
    }


def bar(chart: Any, label: str) -> float:
    (found,) = [s for s in chart.shapes if s.kind == "rect" and s.text.startswith(label)]
    width: float = found.width
    return width


def test_outcome_bars_share_one_scale_across_the_counties() -> None:
    chart = outcome_bars(
        data(herefordshire={"answered": 10, "abandoned": 5}, worcestershire={"answered": 2}),
        NAMES,
    )

    assert bar(chart, "Herefordshire, Answered by its own team") == BAR_W
    assert bar(chart, "Herefordshire, Abandoned") == BAR_W / 2
    assert bar(chart, "Worcestershire, Answered by its own team") == BAR_W / 5
    assert bar(chart, "Worcestershire, Voicemail: 0") == 0


def test_no_calls_draw_empty_bars() -> None:
    chart = outcome_bars(data(herefordshire={}), NAMES)

    assert all(s.width == 0 for s in chart.shapes if s.kind == "rect")


def test_the_heat_map_is_darkest_at_the_busiest_hour_and_blank_without_calls() -> None:
    grid = week_grid(data(), "herefordshire")
    chart = week_heat(grid, "Herefordshire")

    assert grid[0][10] == 4 and grid[2][9] == 1 and sum(map(sum, grid)) == 5
    shades = {s.text: s.css for s in chart.shapes if s.kind == "rect"}
    assert len(shades) == 7 * 24
    assert shades["Herefordshire, Mon 10:00: 4 received"].endswith("--5")
    assert shades["Herefordshire, Wed 09:00: 1 received"].endswith("--1")
    assert shades["Herefordshire, Sun 23:00: 0 received"].endswith("--0")


def hour_plan(scope: str, hour: int, needed: int | None) -> HourPlan:
    return HourPlan(scope, 0, hour, 1.0, 300.0, 0.1, needed, 0.9)


def test_the_plan_by_hour_compares_the_counties_apart_with_the_pool() -> None:
    plans = [
        hour_plan("herefordshire", 9, 3),
        hour_plan("worcestershire", 9, 2),
        hour_plan("herefordshire", 10, 4),
        hour_plan("worcestershire", 10, 4),
        hour_plan(POOLED, 9, 4),
        hour_plan(POOLED, 10, 6),
        hour_plan(POOLED, 11, 1),
        hour_plan("worcestershire", 11, 1),
    ]

    rows = plan_hours(plans, list(NAMES))
    page = StatsPage({}, list(NAMES), rows)

    assert rows[0] == PlanHour(0, 9, {"herefordshire": 3, "worcestershire": 2}, 4)
    assert [(r.apart_total, r.pooled, r.saving) for r in rows] == [(5, 4, 1), (8, 6, 2), (1, 1, 0)]
    assert rows[2].apart == {"herefordshire": 0, "worcestershire": 1}
    assert page.peak == rows[1]
    assert page.weekly_saving == 3
