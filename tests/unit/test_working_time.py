from datetime import UTC, date, datetime, time, timedelta

import pytest

from callbacks.working_time import (
    add_working_days,
    add_working_hours,
    clock_start,
    due_at,
    retry_at,
    working_seconds_between,
)
from rota.calendar import OfficeCalendar, bank_holidays
from tests.constants import LONDON, london

NINE_TO_FIVE = OfficeCalendar(
    hours={d: ((time(9), time(17)),) for d in range(5)},
    tz=LONDON,
    holidays=bank_holidays("england"),
)
FRIDAY_HALF_FOUR = OfficeCalendar(
    hours={
        **{d: ((time(9), time(17)),) for d in range(4)},
        4: ((time(9), time(16, 30)),),
    },
    tz=LONDON,
    holidays=bank_holidays("england"),
)


def with_closures(*closures: tuple[datetime, datetime | None]) -> OfficeCalendar:
    return OfficeCalendar(
        hours=NINE_TO_FIVE.hours, tz=LONDON, holidays=NINE_TO_FIVE.holidays, closures=closures
    )


# --- the promise: N working days, Monday to Friday, England ---------------------------------


@pytest.mark.parametrize(
    ("received", "working_days", "due"),
    [
        # Monday 19 September 2022, the Queen's state funeral, is skipped.
        (date(2022, 9, 16), 2, date(2022, 9, 21)),
        # Monday 8 May 2023, the coronation, is skipped.
        (date(2023, 5, 5), 1, date(2023, 5, 9)),
        # Thursday 2 and Friday 3 June 2022, the jubilee holidays, are skipped.
        (date(2022, 6, 1), 1, date(2022, 6, 6)),
        # Boxing Day and Christmas Day (observed) are skipped.
        (date(2022, 12, 23), 1, date(2022, 12, 28)),
        # An ordinary week: Tuesday + 2 = Thursday.
        (date(2022, 9, 6), 2, date(2022, 9, 8)),
    ],
)
def test_due_at_skips_weekends_and_bank_holidays(
    received: date, working_days: int, due: date
) -> None:
    assert due_at(NINE_TO_FIVE, london(received, 10), working_days) == london(due, 10)


def test_message_in_hours_starts_the_clock_on_arrival() -> None:
    arrived = london(date(2022, 9, 6), 14, 25)
    assert clock_start(NINE_TO_FIVE, arrived) == arrived
    assert due_at(NINE_TO_FIVE, arrived, 2) == london(date(2022, 9, 8), 14, 25)


def test_message_on_saturday_evening_starts_the_clock_on_monday_morning() -> None:
    arrived = london(date(2022, 9, 10), 19, 30)
    assert clock_start(NINE_TO_FIVE, arrived) == london(date(2022, 9, 12), 9)
    assert due_at(NINE_TO_FIVE, arrived, 2) == london(date(2022, 9, 14), 9)


def test_message_on_weekday_evening_starts_the_clock_next_morning() -> None:
    arrived = london(date(2022, 9, 6), 20)
    assert clock_start(NINE_TO_FIVE, arrived) == london(date(2022, 9, 7), 9)
    assert due_at(NINE_TO_FIVE, arrived, 2) == london(date(2022, 9, 9), 9)


def test_message_at_closing_time_counts_as_out_of_hours() -> None:
    arrived = london(date(2022, 9, 6), 17)
    assert clock_start(NINE_TO_FIVE, arrived) == london(date(2022, 9, 7), 9)


def test_message_on_a_bank_holiday_starts_the_clock_the_next_working_morning() -> None:
    # Monday 29 August 2022 was the summer bank holiday.
    arrived = london(date(2022, 8, 29), 10)
    assert clock_start(NINE_TO_FIVE, arrived) == london(date(2022, 8, 30), 9)
    assert due_at(NINE_TO_FIVE, arrived, 2) == london(date(2022, 9, 1), 9)


# --- closures ----------------------------------------------------------------------------------


def test_whole_day_closure_is_not_a_working_day() -> None:
    training_day = date(2023, 3, 13)  # a Monday
    cal = with_closures((london(training_day, 0), london(training_day + timedelta(days=1), 0)))
    assert due_at(cal, london(date(2023, 3, 10), 10), 1) == london(date(2023, 3, 14), 10)


def test_part_day_closure_still_counts_as_a_working_day() -> None:
    monday = date(2023, 3, 13)
    cal = with_closures((london(monday, 9), london(monday, 12)))
    assert due_at(cal, london(date(2023, 3, 10), 10), 1) == london(monday, 10)


def test_message_during_a_closure_starts_the_clock_when_the_office_reopens() -> None:
    tuesday = date(2023, 3, 14)
    cal = with_closures((london(tuesday, 9), london(tuesday, 13)))
    assert clock_start(cal, london(tuesday, 10)) == london(tuesday, 13)


def test_closure_until_reopened_leaves_no_deadline() -> None:
    cal = with_closures((london(date(2023, 3, 13), 0), None))
    # In on Friday, so the clock starts; the closure from Monday leaves no second working day.
    assert clock_start(cal, london(date(2023, 3, 10), 10)) == london(date(2023, 3, 10), 10)
    assert add_working_days(cal, london(date(2023, 3, 10), 10), 2) is None
    assert due_at(cal, london(date(2023, 3, 10), 10), 2) is None
    # In during the closure: the clock cannot start at all.
    assert clock_start(cal, london(date(2023, 3, 15), 10)) is None
    assert due_at(cal, london(date(2023, 3, 15), 10), 2) is None


def test_an_office_with_no_hours_leaves_no_deadline() -> None:
    cal = OfficeCalendar(hours={}, tz=LONDON, holidays=bank_holidays("england"))
    assert clock_start(cal, london(date(2023, 3, 15), 10)) is None
    assert due_at(cal, london(date(2023, 3, 15), 10), 2) is None
    assert add_working_hours(cal, london(date(2023, 3, 15), 10), 2) is None


def test_a_closure_ending_within_the_search_leaves_a_deadline_after_it() -> None:
    reopens = london(date(2024, 1, 8), 9)  # a Monday, about ten months on
    cal = with_closures((london(date(2023, 3, 13), 0), reopens))
    assert due_at(cal, london(date(2023, 3, 15), 10), 2) == london(date(2024, 1, 10), 9)


# --- clock changes in Europe/London --------------------------------------------------------------


def test_deadline_keeps_local_time_across_the_spring_clock_change() -> None:
    arrived = datetime(2026, 3, 27, 10, tzinfo=UTC)  # Friday 10:00 GMT
    assert due_at(NINE_TO_FIVE, arrived, 2) == datetime(2026, 3, 31, 9, tzinfo=UTC)  # 10:00 BST


def test_deadline_keeps_local_time_across_the_autumn_clock_change() -> None:
    arrived = datetime(2026, 10, 23, 9, tzinfo=UTC)  # Friday 10:00 BST
    assert due_at(NINE_TO_FIVE, arrived, 2) == datetime(2026, 10, 27, 10, tzinfo=UTC)  # 10:00 GMT


# --- add_working_days directly --------------------------------------------------------------------


def test_zero_working_days_is_the_start_itself() -> None:
    start = london(date(2022, 9, 10), 19, 30)
    assert add_working_days(NINE_TO_FIVE, start, 0) == start


def test_deadline_after_closing_on_the_last_day_is_not_moved() -> None:
    # Monday 16:45 + 4 working days is Friday 16:45, after the office's 16:30 Friday close.
    start = london(date(2022, 9, 5), 16, 45)
    assert add_working_days(FRIDAY_HALF_FOUR, start, 4) == london(date(2022, 9, 9), 16, 45)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(NINE_TO_FIVE, london(date(2022, 9, 6), 10), -1)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(NINE_TO_FIVE, datetime(2022, 9, 6, 10), 2)


# --- add_working_hours (retry spacing) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "hours", "expected"),
    [
        # Within one day, fractions of an hour included.
        (NINE_TO_FIVE, london(date(2022, 9, 6), 10), 1.5, london(date(2022, 9, 6), 11, 30)),
        # Over an evening: one hour on Tuesday, one on Wednesday.
        (NINE_TO_FIVE, london(date(2022, 9, 6), 16), 2, london(date(2022, 9, 7), 10)),
        # Over a weekend, with a 16:30 Friday close.
        (FRIDAY_HALF_FOUR, london(date(2022, 9, 9), 16), 2, london(date(2022, 9, 12), 10, 30)),
        # Over a weekend and the August bank holiday.
        (NINE_TO_FIVE, london(date(2022, 8, 26), 16), 2, london(date(2022, 8, 30), 10)),
        # Starting out of hours: counting begins at Monday's opening.
        (NINE_TO_FIVE, london(date(2022, 9, 10), 12), 1, london(date(2022, 9, 12), 10)),
        # Over the spring clock change: Monday 10:00 BST is 09:00 UTC.
        (
            NINE_TO_FIVE,
            datetime(2026, 3, 27, 16, tzinfo=UTC),
            2,
            datetime(2026, 3, 30, 9, tzinfo=UTC),
        ),
    ],
)
def test_add_working_hours_counts_open_time_only(
    cal: OfficeCalendar, start: datetime, hours: float, expected: datetime
) -> None:
    assert add_working_hours(cal, start, hours) == expected


def test_working_hours_ending_at_closing_time_land_at_the_next_opening() -> None:
    # A retry is only useful when the office is open, so 15:00 + 2 hours is 09:00 next morning.
    start = london(date(2022, 9, 6), 15)
    assert add_working_hours(NINE_TO_FIVE, start, 2) == london(date(2022, 9, 7), 9)


def test_working_hours_skip_a_closure() -> None:
    wednesday = date(2022, 9, 7)
    cal = with_closures((london(wednesday, 9), london(wednesday, 12)))
    assert add_working_hours(cal, london(date(2022, 9, 6), 16), 2) == london(wednesday, 13)


def test_negative_working_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(NINE_TO_FIVE, london(date(2022, 9, 6), 10), -0.5)


def test_working_hours_with_no_opening_ahead_are_none() -> None:
    cal = with_closures((london(date(2023, 3, 13), 0), None))
    # Friday's last hour counts; the second hour never comes.
    assert add_working_hours(cal, london(date(2023, 3, 10), 16), 2) is None


@pytest.mark.parametrize(
    ("cal", "expected"),
    [
        # An office that opens: working hours, as ever (one on Friday, one on Monday).
        (NINE_TO_FIVE, london(date(2023, 3, 13), 10)),
        # Closed until further notice from Monday: plain hours.
        (with_closures((london(date(2023, 3, 13), 0), None)), london(date(2023, 3, 10), 18)),
        # No hours at all: plain hours.
        (OfficeCalendar(hours={}, tz=LONDON, holidays=frozenset()), london(date(2023, 3, 10), 18)),
        # No calendar: the office is no longer configured. Plain hours.
        (None, london(date(2023, 3, 10), 18)),
    ],
)
def test_a_retry_is_spaced_in_plain_hours_only_when_the_office_has_no_opening_in_sight(
    cal: OfficeCalendar | None, expected: datetime
) -> None:
    assert retry_at(cal, london(date(2023, 3, 10), 16), 2) == expected


# --- working_seconds_between (statistics) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "end", "hours"),
    [
        # Across a night: an hour on Tuesday evening and an hour on Wednesday morning.
        (NINE_TO_FIVE, london(date(2022, 9, 6), 16), london(date(2022, 9, 7), 10), 2),
        # Across a weekend, with a 17:00 and then a 16:30 Friday close.
        (NINE_TO_FIVE, london(date(2022, 9, 9), 16), london(date(2022, 9, 12), 10), 2),
        (FRIDAY_HALF_FOUR, london(date(2022, 9, 9), 16), london(date(2022, 9, 12), 10), 1.5),
        # A whole working week, Saturday to Saturday.
        (NINE_TO_FIVE, london(date(2022, 9, 3), 12), london(date(2022, 9, 10), 12), 40),
        # Entirely out of hours.
        (NINE_TO_FIVE, london(date(2022, 9, 6), 18), london(date(2022, 9, 7), 8), 0),
        # The end before the start.
        (NINE_TO_FIVE, london(date(2022, 9, 7), 10), london(date(2022, 9, 6), 16), 0),
        # The spring clock change week still has 8 open hours a day.
        (
            NINE_TO_FIVE,
            datetime(2026, 3, 27, 16, tzinfo=UTC),
            datetime(2026, 3, 30, 9, tzinfo=UTC),
            2,
        ),
    ],
)
def test_working_seconds_between_counts_open_time_only(
    cal: OfficeCalendar, start: datetime, end: datetime, hours: float
) -> None:
    assert working_seconds_between(cal, start, end) == hours * 3600


def test_working_seconds_between_leaves_out_closures() -> None:
    wednesday = date(2022, 9, 7)
    cal = with_closures((london(wednesday, 0), london(wednesday + timedelta(days=1), 0)))
    start, end = london(date(2022, 9, 6), 16), london(date(2022, 9, 8), 10)
    assert working_seconds_between(cal, start, end) == 2 * 3600


def test_working_seconds_between_is_not_limited_to_a_year() -> None:
    start, end = london(date(2022, 1, 1), 12), london(date(2024, 1, 1), 12)
    # 2022 and 2023 had 250 and 251 working days in England (weekdays less bank holidays).
    assert working_seconds_between(NINE_TO_FIVE, start, end) == (250 + 251) * 8 * 3600


@pytest.mark.parametrize("hours", [0.25, 2, 7.5, 8, 30])
def test_working_seconds_between_undoes_add_working_hours(hours: float) -> None:
    start = london(date(2022, 12, 22), 15, 10)
    end = add_working_hours(NINE_TO_FIVE, start, hours)
    assert working_seconds_between(NINE_TO_FIVE, start, end) == hours * 3600
