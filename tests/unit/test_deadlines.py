"""How a callback stands against its promise, in working time and in words."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from callbacks.deadlines import NO_DEADLINE, deadline, duration_text
from rota.calendar import OfficeCalendar, bank_holidays
from tests.constants import FRIDAY, LONDON, MONDAY, london

NINE_TO_FIVE = OfficeCalendar(
    hours={d: ((time(9), time(17)),) for d in range(5)},
    tz=LONDON,
    holidays=bank_holidays("england"),
)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (30, "less than a minute"),
        (60, "1 minute"),
        (3600, "1 hour"),
        (2 * 3600 + 5 * 60, "2 hours 5 minutes"),
        (16 * 3600 + 59, "16 hours"),
    ],
)
def test_durations_in_words(seconds: float, words: str) -> None:
    assert duration_text(seconds) == words


def test_the_weekend_is_not_counted_in_the_time_left() -> None:
    # Friday 16:00 to Monday 10:00: an hour on Friday and an hour on Monday.
    standing = deadline(
        NINE_TO_FIVE, london(MONDAY + timedelta(days=7), 10), None, london(FRIDAY, 16)
    )

    assert standing.working_seconds_left == 2 * 3600
    assert standing.text == "2 hours of working time left"
    assert not standing.overdue and not standing.met


def test_overdue_is_counted_in_working_time_too() -> None:
    # Due at 16:00 on Friday; at 10:00 on the Monday after, 2 hours of opening have passed.
    standing = deadline(
        NINE_TO_FIVE, london(FRIDAY, 16), None, london(MONDAY + timedelta(days=7), 10)
    )

    assert standing.overdue
    assert standing.working_seconds_left == -2 * 3600
    assert standing.text == "overdue by 2 hours of working time"


def test_overdue_out_of_hours_with_no_open_time_since_says_only_overdue() -> None:
    standing = deadline(NINE_TO_FIVE, london(FRIDAY, 17), None, london(FRIDAY, 19))

    assert standing.overdue and standing.text == "overdue"


def test_no_deadline_while_the_office_has_no_opening_in_sight() -> None:
    standing = deadline(NINE_TO_FIVE, None, None, london(MONDAY, 10))

    assert standing.text == NO_DEADLINE
    assert standing.working_seconds_left is None and not standing.overdue


def test_a_first_attempt_made_meets_the_promise_or_was_late() -> None:
    due = london(MONDAY, 12)

    in_time = deadline(NINE_TO_FIVE, due, london(MONDAY, 11), london(MONDAY, 15))
    late = deadline(NINE_TO_FIVE, due, london(MONDAY, 13), london(MONDAY, 15))

    assert in_time.met and in_time.text == "first attempt made in time"
    assert late.met and late.text == "first attempt made after the deadline"
    assert not late.overdue and late.working_seconds_left is None


def test_an_office_no_longer_configured_counts_plain_time() -> None:
    standing = deadline(None, london(MONDAY, 22), None, london(MONDAY, 20))

    assert standing.working_seconds_left == 2 * 3600
