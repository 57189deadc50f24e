"""Erlang C through the Erlang B recursion: the checkpoint of the domain notes, and big teams."""

from __future__ import annotations

import math

import pytest

from helpline.statistics import erlang


def test_the_checkpoint_360_calls_a_half_hour_of_240_s_with_55_advisers() -> None:
    erlangs = erlang.traffic(calls_per_hour=720, handle_seconds=240)
    at_15 = erlang.staffing(55, erlangs, handle_s=240, within_s=15)
    at_20 = erlang.staffing(55, erlangs, handle_s=240, within_s=20)

    assert erlangs == 48
    assert at_15.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert at_15.average_speed_of_answer_s == pytest.approx(8.18, abs=5e-3)
    assert at_15.service_level == pytest.approx(0.8459, abs=5e-5)
    assert at_20.service_level == pytest.approx(0.8668, abs=5e-5)


def test_80_percent_within_20_s_of_the_checkpoint_needs_54_advisers() -> None:
    made = erlang.plan(720, 240, answer_within_s=20, target=0.8)

    assert made.advisers_needed == 54
    assert made.table[0].advisers == 49  # the fewest with more advisers than erlangs
    assert made.table[-1].advisers == 54 + erlang.EXTRA_ROWS
    assert made.table[4].service_level < 0.8 <= made.table[5].service_level


def test_erlang_b_recursion_agrees_with_the_textbook_formula_for_a_small_team() -> None:
    a, n = 3.0, 5
    textbook = (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))

    assert erlang.erlang_b(n, a) == pytest.approx(textbook, rel=1e-12)


def test_500_erlangs_stays_finite_and_needs_a_few_more_advisers_than_erlangs() -> None:
    made = erlang.plan(calls_per_hour=10_000, handle_seconds=180, answer_within_s=20, target=0.8)

    assert made.traffic_erlangs == 500
    assert 500 < made.advisers_needed < 530
    for row in made.table:
        assert 0 <= row.p_wait <= 1
        assert 0 <= row.service_level <= 1
        assert math.isfinite(row.average_speed_of_answer_s)
    levels = [row.service_level for row in made.table]
    assert levels == sorted(levels)


def test_advisers_who_cannot_cope_always_make_callers_wait() -> None:
    assert erlang.p_wait(48, 48.0) == 1.0
    assert erlang.staffing(40, 48.0, 240, 20).service_level == 0.0


def test_no_calls_need_nobody() -> None:
    made = erlang.plan(0, 240, 20, 0.8)

    assert (made.traffic_erlangs, made.advisers_needed, made.table) == (0.0, 0, ())


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((-1, 240, 20, 0.8), "negative"),
        ((10, -240, 20, 0.8), "negative"),
        ((10, 240, -1, 0.8), "negative"),
        ((10, 240, 20, 1.0), "fraction"),
        ((10, 240, 20, 0.0), "fraction"),
        ((10, 240, 20, 80), "fraction"),
    ],
)
def test_bad_plans_are_refused(args: tuple[float, float, float, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        erlang.plan(*args)
