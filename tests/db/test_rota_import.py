"""The rota CSV import: checking a file line by line, then adding or updating the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.importer import ImportResult, RotaImportError, RotaRow, import_rota, parse_rota
from rota.models import Adviser, Shift

if TYPE_CHECKING:
    from tests.factories import Clock

HEADER = "name,phone,office,date,start,end,duty_officer"
ALEX = "Alex Adams,+447700900001,herefordshire,2026-11-30,09:00,17:00,yes"
BLAIR = "Blair Brown,07700 900002,worcestershire,2026-11-30,09:30,16:30,no"
SUMMER = "Alex Adams,+447700900001,herefordshire,2026-06-01,09:00,13:00,no"


def csv_text(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def errors_of(text: str, settings: Settings) -> list[str]:
    with pytest.raises(RotaImportError) as caught:
        parse_rota(text, settings)
    return caught.value.errors


def count(session: Session, model: type[Adviser] | type[Shift]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def shift_of(session: Session, name: str, day: date) -> Shift:
    return session.scalars(
        select(Shift).join(Adviser).where(Adviser.name == name, Shift.day == day)
    ).one()


# Parsing, no database.


def test_parse_good_file(settings: Settings) -> None:
    rows = parse_rota(csv_text(ALEX, BLAIR), settings)

    assert rows == [
        RotaRow(
            2,
            "Alex Adams",
            "+447700900001",
            "herefordshire",
            date(2026, 11, 30),
            time(9, 0),
            time(17, 0),
            True,
        ),
        RotaRow(
            3,
            "Blair Brown",
            "+447700900002",
            "worcestershire",
            date(2026, 11, 30),
            time(9, 30),
            time(16, 30),
            False,
        ),
    ]


def test_columns_in_any_order_with_loose_header_and_values(settings: Settings) -> None:
    text = (
        " Duty_Officer , END,start,date,Office,phone,NAME\n"
        "NO,17:00,9:00,2026-11-30,Herefordshire,07700 900001,  Alex   Adams \n"
    )

    (row,) = parse_rota(text, settings)

    assert (row.name, row.phone, row.office) == ("Alex Adams", "+447700900001", "herefordshire")
    assert (row.start, row.end, row.duty_officer) == (time(9, 0), time(17, 0), False)


def test_bom_crlf_and_blank_lines_are_tolerated(settings: Settings) -> None:
    text = "\ufeff" + HEADER + "\r\n\r\n" + ALEX + "\r\n  ,  \r\n" + BLAIR + "\r\n\r\n"

    rows = parse_rota(text, settings)

    assert [row.line for row in rows] == [3, 5]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (",+447700900001,herefordshire,2026-11-30,09:00,17:00,no", "line 2, name: empty"),
        (
            "Alex Adams,07700 90,herefordshire,2026-11-30,09:00,17:00,no",
            "line 2, phone: '07700 90' is not a UK telephone number",
        ),
        (
            "Alex Adams,4322,herefordshire,2026-11-30,09:00,17:00,no",
            "line 2, phone: '4322' is not a UK telephone number",
        ),
        (
            "Alex Adams,+12025550123,herefordshire,2026-11-30,09:00,17:00,no",
            "line 2, phone: '+12025550123' is not a UK telephone number",
        ),
        (
            "Alex Adams,+447700900001,shropshire,2026-11-30,09:00,17:00,no",
            "line 2, office: no office 'shropshire' (known offices: herefordshire, worcestershire)",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,30/11/2026,09:00,17:00,no",
            "line 2, date: '30/11/2026' is not a date like 2026-11-30",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-02-30,09:00,17:00,no",
            "line 2, date: '2026-02-30' is not a date",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-11-30,9am,17:00,no",
            "line 2, start: '9am' is not a time like 09:00",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-11-30,09:00,24:00,no",
            "line 2, end: '24:00' is not a time",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-11-30,17:00,09:00,no",
            "line 2, end: 09:00 is not after the start, 17:00",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-11-30,09:00,17:00,true",
            "line 2, duty_officer: 'true' is not yes or no",
        ),
        (
            "Alex Adams,+447700900001,herefordshire,2026-11-30,09:00,17:00",
            "line 2: expected 7 fields, found 6",
        ),
    ],
)
def test_bad_field_names_line_and_field(line: str, expected: str, settings: Settings) -> None:
    (error,) = errors_of(csv_text(line), settings)

    assert error.startswith(expected)


def test_all_errors_are_reported_together(settings: Settings) -> None:
    text = csv_text(
        ALEX,
        "Blair Brown,07700 90,worcestershire,2026-11-31,09:00,17:00,maybe",
        BLAIR,
        "Casey Cole,+447700900003,shropshire,2026-11-30,09:00,17:00,no",
    )

    with pytest.raises(RotaImportError) as caught:
        parse_rota(text, settings)

    assert [error.split(":")[0] for error in caught.value.errors] == [
        "line 3, phone",
        "line 3, date",
        "line 3, duty_officer",
        "line 5, office",
    ]
    assert str(caught.value) == "\n".join(caught.value.errors)


def test_header_problems(settings: Settings) -> None:
    text = "name,phone,office,date,start,finish,duty_officer,notes\n" + ALEX + ",x\n"

    (error,) = errors_of(text, settings)

    assert error.startswith("line 1: unknown column(s) 'finish', 'notes'; missing column(s) end")


@pytest.mark.parametrize("text", ["", "\ufeff", "\n  \n"])
def test_empty_file(text: str, settings: Settings) -> None:
    (error,) = errors_of(text, settings)

    assert error.startswith("line 1: the file is empty")


def test_header_only_is_no_rows(settings: Settings) -> None:
    assert parse_rota(HEADER + "\n", settings) == []


def test_two_duty_officers_on_one_date(settings: Settings) -> None:
    (error,) = errors_of(csv_text(ALEX, BLAIR.replace(",no", ",YES")), settings)

    assert error.startswith("line 3, duty_officer: 2026-11-30 already has a duty officer on line 2")


def test_one_name_with_two_phones(settings: Settings) -> None:
    other = "alex adams,+447700900009,herefordshire,2026-12-01,09:00,17:00,no"

    (error,) = errors_of(csv_text(ALEX, other), settings)

    assert error == (
        "line 3, phone: +447700900009 differs from Alex Adams's +447700900001 on line 2"
    )


def test_overlapping_shifts_of_one_adviser(settings: Settings) -> None:
    morning = "Alex Adams,+447700900001,herefordshire,2026-12-01,09:00,13:00,no"
    afternoon = "ALEX ADAMS,+447700900001,worcestershire,2026-12-01,13:00,17:00,no"
    overlap = "Alex Adams,+447700900001,worcestershire,2026-12-01,12:00,14:00,no"

    assert len(parse_rota(csv_text(morning, afternoon), settings)) == 2
    errors = errors_of(csv_text(morning, afternoon, overlap), settings)

    assert [error.split(" overlaps")[0] for error in errors] == [
        "line 4, start: Alex Adams's shift 12:00-14:00"
    ] * 2
    assert "on line 2" in errors[0] and "on line 3" in errors[1]


def test_summary_sentence() -> None:
    result = ImportResult(advisers_added=1, shifts_added=2, shifts_unchanged=1)

    assert result.summary() == (
        "Added 1 adviser and updated 0; added 2 shifts, updated 0, removed 0 and left 1 unchanged."
    )


# Importing into the database.


def test_import_adds_advisers_and_shifts_in_utc(
    session: Session, settings: Settings, clock: Clock
) -> None:
    result = import_rota(session, settings, csv_text(ALEX, BLAIR, SUMMER), clock())

    assert result == ImportResult(advisers_added=2, shifts_added=3)
    alex = session.scalars(select(Adviser).where(Adviser.name == "Alex Adams")).one()
    assert (alex.name_key, alex.phone) == ("alex adams", "+447700900001")
    assert alex.created_at == alex.updated_at == clock()
    winter = shift_of(session, "Alex Adams", date(2026, 11, 30))
    assert (winter.starts_at, winter.ends_at) == (
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
    )
    assert (winter.office, winter.duty_officer) == ("herefordshire", True)
    summer = shift_of(session, "Alex Adams", date(2026, 6, 1))
    assert (summer.starts_at, summer.ends_at) == (
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
    )
    assert shift_of(session, "Blair Brown", date(2026, 11, 30)).office == "worcestershire"


def test_import_twice_changes_nothing(
    session: Session, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "commit", lambda: pytest.fail("the caller commits"))
    text = csv_text(ALEX, BLAIR, SUMMER)
    import_rota(session, settings, text, clock())
    first_updated = session.scalars(select(Adviser.updated_at)).all()

    result = import_rota(session, settings, text, clock.advance(days=1))

    assert result == ImportResult(shifts_unchanged=3)
    assert (count(session, Adviser), count(session, Shift)) == (2, 3)
    assert session.scalars(select(Adviser.updated_at)).all() == first_updated


def test_later_file_updates_phone_and_shift(
    session: Session, settings: Settings, clock: Clock
) -> None:
    import_rota(session, settings, csv_text(ALEX, BLAIR), clock())
    later = clock.advance(days=1)
    changed = ALEX.replace("+447700900001", "07700 900011").replace("17:00,yes", "16:00,yes")

    result = import_rota(session, settings, csv_text(changed, BLAIR), later)

    assert result == ImportResult(advisers_updated=1, shifts_updated=1, shifts_unchanged=1)
    alex = session.scalars(select(Adviser).where(Adviser.name == "Alex Adams")).one()
    assert (alex.phone, alex.updated_at) == ("+447700900011", later)
    assert alex.created_at < later
    shift = shift_of(session, "Alex Adams", date(2026, 11, 30))
    assert (shift.end, shift.ends_at) == (time(16, 0), datetime(2026, 11, 30, 16, tzinfo=UTC))


def test_names_match_in_any_case(session: Session, settings: Settings, clock: Clock) -> None:
    import_rota(session, settings, csv_text(ALEX), clock())

    shouted = "ALEX  ADAMS,+447700900001,worcestershire,2026-12-01,09:00,17:00,no"
    result = import_rota(session, settings, csv_text(shouted), clock.advance(hours=1))

    assert result == ImportResult(advisers_updated=1, shifts_added=1)
    (alex,) = session.scalars(select(Adviser)).all()
    assert alex.name == "ALEX ADAMS"
    assert count(session, Shift) == 2


def test_file_with_a_bad_row_imports_nothing(
    session: Session, settings: Settings, clock: Clock
) -> None:
    import_rota(session, settings, csv_text(ALEX), clock())
    before = (count(session, Adviser), count(session, Shift))
    bad = "Casey Cole,+447700900003,herefordshire,2026-12-01,09:00,17:00,maybe"
    changed = ALEX.replace("17:00", "15:00")

    with pytest.raises(RotaImportError) as caught:
        import_rota(session, settings, csv_text(changed, BLAIR, bad), clock())

    assert caught.value.errors == ["line 4, duty_officer: 'maybe' is not yes or no"]
    assert (count(session, Adviser), count(session, Shift)) == before
    assert shift_of(session, "Alex Adams", date(2026, 11, 30)).end == time(17, 0)


def test_second_duty_officer_on_a_date_is_refused(
    session: Session, settings: Settings, clock: Clock
) -> None:
    import_rota(session, settings, csv_text(ALEX), clock())

    with pytest.raises(RotaImportError) as caught:
        import_rota(session, settings, csv_text(BLAIR.replace(",no", ",yes")), clock())

    (error,) = caught.value.errors
    assert error.startswith(
        "line 2, duty_officer: Alex Adams is already duty officer on 2026-11-30 (09:00-17:00)"
    )
    assert count(session, Adviser) == 1


def test_duty_can_be_handed_over_in_one_file(
    session: Session, settings: Settings, clock: Clock
) -> None:
    import_rota(session, settings, csv_text(ALEX, BLAIR), clock())
    handover = csv_text(ALEX.replace(",yes", ",no"), BLAIR.replace(",no", ",yes"))

    result = import_rota(session, settings, handover, clock())

    assert result == ImportResult(shifts_updated=2)
    assert not shift_of(session, "Alex Adams", date(2026, 11, 30)).duty_officer
    assert shift_of(session, "Blair Brown", date(2026, 11, 30)).duty_officer


def test_a_shift_moved_in_a_later_file_moves(session: Session, settings: Settings) -> None:
    before = datetime(2026, 11, 30, 8, tzinfo=UTC)  # a shift in progress would end instead
    import_rota(session, settings, csv_text(ALEX, BLAIR), before)
    moved = "alex adams,+447700900001,worcestershire,2026-11-30,16:00,18:00,yes"

    result = import_rota(session, settings, csv_text(moved, BLAIR), before)

    assert result == ImportResult(
        advisers_updated=1, shifts_added=1, shifts_removed=1, shifts_unchanged=1
    )
    shift = shift_of(session, "alex adams", date(2026, 11, 30))
    assert (shift.start, shift.end, shift.office) == (time(16), time(18), "worcestershire")
    assert (shift.starts_at, shift.ends_at) == (
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 11, 30, 18, tzinfo=UTC),
    )
    assert count(session, Shift) == 2


def test_a_file_replaces_the_days_it_names_and_only_those(
    session: Session, settings: Settings, clock: Clock
) -> None:
    morning = "Alex Adams,+447700900001,herefordshire,2026-12-01,09:00,13:00,no"
    afternoon = "Alex Adams,+447700900001,herefordshire,2026-12-01,13:00,17:00,no"
    import_rota(session, settings, csv_text(ALEX, BLAIR, morning, afternoon, SUMMER), clock())
    whole_day = "Alex Adams,+447700900001,herefordshire,2026-12-01,09:00,17:00,no"

    result = import_rota(session, settings, csv_text(whole_day), clock())

    # The morning shift becomes the whole day and the afternoon goes; Alex's other days and
    # Blair's shift on a day the file names for Alex alone stay as they were.
    assert result == ImportResult(shifts_updated=1, shifts_removed=1)
    assert shift_of(session, "Alex Adams", date(2026, 12, 1)).end == time(17)
    assert shift_of(session, "Alex Adams", date(2026, 11, 30)).end == time(17)
    assert shift_of(session, "Alex Adams", date(2026, 6, 1)).end == time(13)
    assert shift_of(session, "Blair Brown", date(2026, 11, 30)).end == time(16, 30)
    assert count(session, Shift) == 4


def test_moving_the_duty_officers_shift_keeps_the_duty(
    session: Session, settings: Settings
) -> None:
    before = datetime(2026, 11, 30, 8, tzinfo=UTC)  # a shift in progress would end instead
    import_rota(session, settings, csv_text(ALEX, BLAIR), before)
    later = ALEX.replace("09:00,17:00", "12:00,20:00")

    import_rota(session, settings, csv_text(later), before)

    shift = shift_of(session, "Alex Adams", date(2026, 11, 30))
    assert (shift.start, shift.duty_officer) == (time(12), True)


def test_reimporting_the_same_file_says_nothing_changed(
    session: Session, settings: Settings, clock: Clock
) -> None:
    text = csv_text(ALEX, BLAIR)
    assert "Nothing changed" not in import_rota(session, settings, text, clock()).summary()

    again = import_rota(session, settings, text, clock())

    assert again.summary() == (
        "Added 0 advisers and updated 0; added 0 shifts, updated 0, removed 0 and left 2 "
        "unchanged. Nothing changed."
    )
