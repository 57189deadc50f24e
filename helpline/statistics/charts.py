"""The statistics page's charts as shapes for an inline SVG: bars of the outcomes per county and
a heat map of calls by hour of the week. Pure: from the contract's JSON to coordinates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpline.statistics.model import OUTCOMES
from helpline.statistics.report import DAYS

LABEL_W = 190  # room for an outcome's name left of its bar
BAR_W = 320  # the longest bar
ROW_H = 24
HEADING_H = 30
CELL = 18  # one hour of the heat map
HEAT_LEFT = 40
HEAT_TOP = 20
LEVELS = 5  # shades of the heat map, 0 (no calls) to 5 (the busiest hour)

OUTCOME_NAMES = {
    "answered": "Answered by its own team",
    "answered_by_partner": "Answered by the partner",
    "voicemail": "Voicemail",
    "callback_requested": "Callback requested",
    "missed": "Missed",
    "abandoned": "Abandoned",
    "in_progress": "In progress",
}


@dataclass(frozen=True)
class Shape:
    """A rectangle or a line of text, with a class for its colour and a tooltip."""

    kind: str  # "rect" or "text"
    x: float
    y: float
    width: float = 0
    height: float = 0
    css: str = ""
    text: str = ""


@dataclass(frozen=True)
class Chart:
    """An SVG's size and its shapes."""

    width: int
    height: int
    shapes: tuple[Shape, ...]


def outcome_bars(data: dict[str, Any], names: dict[str, str]) -> Chart:
    """A group of horizontal bars per county rung: one bar per outcome, to the same scale."""
    offices = data["offices"]
    most = max(
        (found["calls"].get(o, 0) for found in offices.values() for o in OUTCOMES), default=0
    )
    shapes: list[Shape] = []
    y = 0.0
    for key, found in offices.items():
        shapes.append(Shape("text", 0, y + 20, css="stats-chart__heading", text=names[key]))
        y += HEADING_H
        for number, outcome in enumerate(OUTCOMES):
            count = found["calls"].get(outcome, 0)
            width = BAR_W * count / most if most else 0
            label = OUTCOME_NAMES[outcome]
            shapes.append(Shape("text", 0, y + 16, text=label))
            shapes.append(
                Shape(
                    "rect",
                    LABEL_W,
                    y + 4,
                    width,
                    ROW_H - 8,
                    css=f"stats-chart__bar stats-chart__bar--{number}",
                    text=f"{names[key]}, {label}: {count}",
                )
            )
            shapes.append(Shape("text", LABEL_W + width + 6, y + 16, text=str(count)))
            y += ROW_H
        y += 10
    return Chart(LABEL_W + BAR_W + 50, int(y), tuple(shapes))


def week_grid(data: dict[str, Any], office: str) -> list[list[int]]:
    """Calls received by one county: 7 weekdays (Monday first) of 24 local hours."""
    grid = [[0] * 24 for _ in range(7)]
    for h in data["hour_of_week"]:
        if h["office"] == office:
            grid[h["weekday"]][h["hour"]] += h["received"]
    return grid


def week_heat(grid: list[list[int]], name: str) -> Chart:
    """A heat map: a row per weekday, a square per hour, darker the more calls it received."""
    most = max((n for row in grid for n in row), default=0)
    shapes: list[Shape] = []
    for hour in range(0, 24, 3):
        x = HEAT_LEFT + hour * CELL
        shapes.append(Shape("text", x, HEAT_TOP - 6, css="stats-chart__small", text=f"{hour:02}"))
    for weekday, row in enumerate(grid):
        y = HEAT_TOP + weekday * CELL
        shapes.append(Shape("text", 0, y + 13, css="stats-chart__small", text=DAYS[weekday]))
        for hour, count in enumerate(row):
            level = 0 if not count else max(1, round(LEVELS * count / most))
            shapes.append(
                Shape(
                    "rect",
                    HEAT_LEFT + hour * CELL,
                    y,
                    CELL - 2,
                    CELL - 2,
                    css=f"stats-heat stats-heat--{level}",
                    text=f"{name}, {DAYS[weekday]} {hour:02}:00: {count} received",
                )
            )
    return Chart(HEAT_LEFT + 24 * CELL, HEAT_TOP + 7 * CELL + 4, tuple(shapes))
