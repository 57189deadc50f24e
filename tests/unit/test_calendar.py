"""When an office is open: hours, split days, bank holidays, closures and clock changes."""

from datetime import UTC, date, datetime, time

from rota.calendar import OfficeCalendar, bank_holidays
from tests.constants import LONDON


def office(**kwargs: object) -> OfficeCalendar:
    hours = {d: ((time(9), time(17)),) for d in range(4)}
    hours[4] = ((time(9), time(12, 30)), (time(13, 30), time(16, 30)))  # Friday, lunch closed
    defaults: dict[str, object] = {
        "hours": hours,
        "tz": LONDON,
        "holidays": bank_holidays("england"),
    }
    defaults.update(kwargs)
    return OfficeCalendar(**defaults)  # type: ignore[arg-type]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def test_open_within_hours_and_closed_outside() -> None:
    cal = office()
    assert cal.is_open(local(2026, 11, 30, 9, 0))
    assert not cal.is_open(local(2026, 11, 30, 8, 59))
    assert not cal.is_open(local(2026, 11, 30, 17, 0))
    assert not cal.is_open(local(2026, 12, 5, 11, 0))  # Saturday


def test_split_day_is_closed_over_lunch() -> None:
    cal = office()
    assert cal.is_open(local(2026, 12, 4, 12, 0))
    assert not cal.is_open(local(2026, 12, 4, 13, 0))
    assert cal.is_open(local(2026, 12, 4, 13, 30))
    assert not cal.is_open(local(2026, 12, 4, 16, 45))


def test_bank_holidays_in_england_close_the_office() -> None:
    cal = office()
    assert not cal.is_open(local(2026, 12, 28, 10, 0))  # Boxing Day substitute (observed)
    assert not cal.is_open(local(2026, 4, 6, 10, 0))  # Easter Monday, England only
    assert not cal.is_open(local(2026, 8, 31, 10, 0))  # Summer bank holiday, England
    assert not cal.is_open(local(2022, 9, 19, 10, 0))  # the state funeral
    assert cal.is_open(local(2026, 11, 30, 10, 0))  # St Andrew's Day is Scotland's


def test_no_bank_holidays_when_configured_so() -> None:
    cal = office(holidays=bank_holidays("none"))
    assert cal.is_open(local(2026, 4, 6, 10, 0))


def test_closure_until_a_time_and_closure_until_reopened() -> None:
    start, end = local(2026, 11, 30, 11, 0), local(2026, 11, 30, 14, 0)
    cal = office(closures=((start, end),))
    assert cal.is_open(local(2026, 11, 30, 10, 59))
    assert not cal.is_open(local(2026, 11, 30, 12, 0))
    assert cal.is_open(local(2026, 11, 30, 14, 0))
    indefinite = office(closures=((start, None),))
    assert not indefinite.is_open(local(2026, 12, 1, 10, 0))
    assert indefinite.next_opening(local(2026, 12, 1, 10, 0)) is None


def test_hours_follow_local_time_across_both_clock_changes() -> None:
    cal = office()
    # Monday after the spring change: 09:00 BST is 08:00 UTC.
    assert cal.is_open(datetime(2026, 3, 30, 8, 0, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 3, 30, 7, 59, tzinfo=UTC))
    # Friday before it: 09:00 GMT is 09:00 UTC.
    assert not cal.is_open(datetime(2026, 3, 27, 8, 30, tzinfo=UTC))
    # Monday after the autumn change: 09:00 GMT is 09:00 UTC again.
    assert not cal.is_open(datetime(2026, 10, 26, 8, 30, tzinfo=UTC))
    assert cal.is_open(datetime(2026, 10, 26, 9, 0, tzinfo=UTC))


def test_next_opening_skips_the_weekend_and_bank_holiday() -> None:
    cal = office()
    # Thursday 24 December 2026 after hours -> Christmas, Boxing Day (Sat), substitute Monday 28
    assert cal.next_opening(local(2026, 12, 24, 18, 0)) == local(2026, 12, 29, 9, 0)
    assert cal.is_working_day(date(2026, 12, 29))
    assert not cal.is_working_day(date(2026, 12, 28))
