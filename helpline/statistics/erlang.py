"""Erlang C staffing: how many advisers a stream of calls needs. Pure.

Erlang C is computed from the Erlang B recursion, B(0) = 1 and B(n) = A·B(n-1) / (n + A·B(n-1)),
then C = N·B / (N - A·(1 - B)). No factorial or power of A is ever formed, so it stays exact
and finite for hundreds of advisers, where the textbook formula overflows a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EXTRA_ROWS = 3  # rows the plan's table shows past the number needed


@dataclass(frozen=True)
class Staffing:
    """What N advisers give for a traffic: the chance of waiting, the service level, the ASA."""

    advisers: int
    p_wait: float
    service_level: float
    average_speed_of_answer_s: float


@dataclass(frozen=True)
class Plan:
    """The traffic, the fewest advisers meeting the target, and a table around that number."""

    traffic_erlangs: float
    advisers_needed: int
    table: tuple[Staffing, ...]


def traffic(calls_per_hour: float, handle_seconds: float) -> float:
    """Offered traffic in erlangs: arrivals per second times the mean handle time."""
    return calls_per_hour * handle_seconds / 3600


def erlang_b(advisers: int, erlangs: float) -> float:
    """The Erlang B blocking probability, by the recursion over the number of advisers."""
    blocking = 1.0
    for n in range(1, advisers + 1):
        blocking = erlangs * blocking / (n + erlangs * blocking)
    return blocking


def p_wait(advisers: int, erlangs: float) -> float:
    """Erlang C: the chance that a call waits; 1 when the advisers cannot cope (N ≤ A)."""
    if advisers <= erlangs:
        return 1.0
    blocking = erlang_b(advisers, erlangs)
    return advisers * blocking / (advisers - erlangs * (1 - blocking))


def staffing(advisers: int, erlangs: float, handle_s: float, within_s: float) -> Staffing:
    """P(wait), the share answered within `within_s`, and the average speed of answer."""
    chance = p_wait(advisers, erlangs)
    if advisers <= erlangs:
        return Staffing(advisers, 1.0, 0.0, math.inf)
    spare = advisers - erlangs
    level = 1 - chance * math.exp(-spare * within_s / handle_s)
    return Staffing(advisers, chance, level, chance * handle_s / spare)


def fewest_coping(erlangs: float) -> int:
    """The fewest advisers whose queue does not grow without end: the first N above A."""
    return math.floor(erlangs) + 1


def plan(
    calls_per_hour: float, handle_seconds: float, answer_within_s: float, target: float
) -> Plan:
    """The advisers needed for `target` of calls to be answered within `answer_within_s`, with
    a table from the fewest who can cope to a few past that number. No calls need nobody."""
    if calls_per_hour < 0 or handle_seconds < 0 or answer_within_s < 0:
        raise ValueError("calls, handle time and answer time cannot be negative")
    if not 0 < target < 1:
        raise ValueError("the target is a fraction between 0 and 1, such as 0.8")
    erlangs = traffic(calls_per_hour, handle_seconds)
    if erlangs == 0:
        return Plan(0.0, 0, ())
    first = fewest_coping(erlangs)
    needed = first
    while staffing(needed, erlangs, handle_seconds, answer_within_s).service_level < target:
        needed += 1
    table = tuple(
        staffing(n, erlangs, handle_seconds, answer_within_s)
        for n in range(first, needed + EXTRA_ROWS + 1)
    )
    return Plan(erlangs, needed, table)
