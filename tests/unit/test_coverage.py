"""The rota's gaps: hours an office is open with nobody on shift for it."""

from datetime import UTC, date, datetime, time, timedelta

from rota.calendar import Interval, OfficeCalendar, bank_holidays, local_instant
from rota.coverage import gaps, merged
from tests.constants import LONDON, MONDAY

TUESDAY = MONDAY + timedelta(days=1)
SATURDAY = MONDAY + timedelta(days=5)


def office(**kwargs: object) -> OfficeCalendar:
    defaults: dict[str, object] = {
        "hours": {d: ((time(9), time(17)),) for d in range(5)},
        "tz": LONDON,
        "holidays": bank_holidays("england"),
    }
    defaults.update(kwargs)
    return OfficeCalendar(**defaults)  # type: ignore[arg-type]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_instant(day, time(hour, minute), LONDON)


def shift(day: date, start: int, end: int) -> Interval:
    return (local(day, start), local(day, end))


def test_a_day_covered_all_day_has_no_gap() -> None:
    found = gaps(office(), [shift(MONDAY, 9, 17)], [MONDAY])

    assert found == {MONDAY: []}


def test_the_hours_before_the_first_and_after_the_last_shift_are_gaps() -> None:
    found = gaps(office(), [shift(MONDAY, 10, 13), shift(MONDAY, 12, 16)], [MONDAY])

    assert found[MONDAY] == [shift(MONDAY, 9, 10), shift(MONDAY, 16, 17)]


def test_a_break_between_two_shifts_is_a_gap_and_nobody_all_day_is_one_gap() -> None:
    found = gaps(office(), [shift(MONDAY, 9, 12), shift(MONDAY, 13, 17)], [MONDAY, TUESDAY])

    assert found[MONDAY] == [shift(MONDAY, 12, 13)]
    assert found[TUESDAY] == [shift(TUESDAY, 9, 17)]


def test_shifts_outside_the_opening_hours_fill_no_gap_and_make_none() -> None:
    found = gaps(office(), [shift(MONDAY, 7, 9), shift(MONDAY, 17, 19)], [MONDAY, SATURDAY])

    assert found == {MONDAY: [shift(MONDAY, 9, 17)], SATURDAY: []}


def test_a_bank_holiday_has_no_gap_though_nobody_works() -> None:
    christmas, boxing_day_observed = date(2026, 12, 25), date(2026, 12, 28)

    found = gaps(office(), [], [christmas, boxing_day_observed, date(2026, 12, 29)])

    assert found[christmas] == []
    assert found[boxing_day_observed] == []  # Boxing Day is a Saturday: the Monday is off
    assert found[date(2026, 12, 29)] == [shift(date(2026, 12, 29), 9, 17)]


def test_a_closure_removes_its_hours_from_the_gaps() -> None:
    afternoon = (local(MONDAY, 13), local(MONDAY, 17))
    until_further_notice = (local(TUESDAY, 11), None)
    calendar = office(closures=(afternoon, until_further_notice))

    found = gaps(calendar, [], [MONDAY, TUESDAY, MONDAY + timedelta(days=2)])

    assert found[MONDAY] == [shift(MONDAY, 9, 13)]
    assert found[TUESDAY] == [shift(TUESDAY, 9, 11)]
    assert found[MONDAY + timedelta(days=2)] == []


def test_the_week_the_clocks_go_back_counts_in_local_hours() -> None:
    friday, monday = date(2026, 10, 23), date(2026, 10, 26)  # BST, then GMT after Sunday 25th
    # The same UTC hours each day: 09:00-17:00 BST on the Friday, 08:00-16:00 GMT on the Monday.
    same_utc = [
        (
            datetime(d.year, d.month, d.day, 8, tzinfo=UTC),
            datetime(d.year, d.month, d.day, 16, tzinfo=UTC),
        )
        for d in (friday, monday)
    ]

    found = gaps(office(), same_utc, [friday, monday])

    assert found[friday] == []
    assert found[monday] == [shift(monday, 16, 17)]
    assert found[monday][0][0] == datetime(2026, 10, 26, 16, tzinfo=UTC)


def test_gaps_already_over_are_left_out_when_counting_from_now() -> None:
    found = gaps(office(), [shift(MONDAY, 11, 12)], [MONDAY], since=local(MONDAY, 10, 30))

    assert found[MONDAY] == [(local(MONDAY, 10, 30), local(MONDAY, 11)), shift(MONDAY, 12, 17)]


def test_merged_joins_touching_and_overlapping_intervals_and_drops_empty_ones() -> None:
    pieces = [
        shift(MONDAY, 13, 15),
        shift(MONDAY, 9, 11),
        shift(MONDAY, 11, 12),
        shift(MONDAY, 14, 14),
    ]

    assert merged(pieces) == [shift(MONDAY, 9, 12), shift(MONDAY, 13, 15)]
