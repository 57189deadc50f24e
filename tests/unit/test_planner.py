"""The staffing planner per hour of the week, from observed arrivals and handle times."""

from __future__ import annotations

from datetime import date

from helpline.statistics.erlang import plan
from helpline.statistics.model import HourOfWeek, TeamHour
from helpline.statistics.planner import POOLED, weekday_counts, weekly_plan

MONDAY = date(2026, 11, 2)


def test_weekday_counts_count_each_weekday_in_the_range() -> None:
    counts = weekday_counts(MONDAY, date(2026, 11, 30))  # four weeks and a Monday

    assert counts == {0: 5, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4}
    assert weekday_counts(MONDAY, MONDAY) == {0: 1, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}


def test_each_county_and_the_pool_get_arrivals_per_hour_and_their_own_handle_time() -> None:
    # Four weeks of Tuesdays at 10:00: 40 calls to each county, every one answered.
    hours = [
        HourOfWeek("herefordshire", 1, 10, received=40, answered=40),
        HourOfWeek("worcestershire", 1, 10, received=40, answered=40),
    ]
    work = [
        TeamHour("herefordshire", 1, 10, calls_answered=40, talk_seconds=40 * 600),
        TeamHour("worcestershire", 1, 10, calls_answered=40, talk_seconds=40 * 300),
    ]

    plans = {
        p.scope: p
        for p in weekly_plan(
            hours, work, MONDAY, date(2026, 11, 29), answer_within_s=20, target=0.8
        )
    }

    assert plans["herefordshire"].calls_per_hour == 10
    assert plans["herefordshire"].handle_seconds == 600
    assert plans["worcestershire"].handle_seconds == 300
    assert plans[POOLED].calls_per_hour == 20
    assert plans[POOLED].handle_seconds == 450
    assert plans["herefordshire"].advisers_needed == plan(10, 600, 20, 0.8).advisers_needed
    # Pooling: one stream needs no more advisers than the two teams apart, and here fewer.
    apart = plans["herefordshire"].advisers_needed + plans["worcestershire"].advisers_needed
    assert plans[POOLED].advisers_needed < apart


def test_an_hour_with_no_call_answered_uses_the_teams_handle_time_over_the_range() -> None:
    hours = [
        HourOfWeek("herefordshire", 0, 9, received=4, answered=4),
        HourOfWeek("herefordshire", 0, 17, received=2, answered=0),
    ]
    work = [TeamHour("herefordshire", 0, 9, calls_answered=4, talk_seconds=4 * 480)]

    plans = weekly_plan(hours, work, MONDAY, MONDAY, answer_within_s=20, target=0.8)

    late = next(p for p in plans if p.scope == "herefordshire" and p.hour == 17)
    assert late.handle_seconds == 480
    assert late.calls_per_hour == 2
    assert late.advisers_needed is not None and late.advisers_needed >= 1


def test_a_county_with_nothing_answered_has_no_plan_to_offer() -> None:
    hours = [HourOfWeek("worcestershire", 0, 9, received=3, answered=0)]

    (alone, pooled) = weekly_plan(hours, [], MONDAY, MONDAY, answer_within_s=20, target=0.8)

    assert alone.advisers_needed is None and alone.handle_seconds is None
    assert pooled.scope == POOLED and pooled.advisers_needed is None
