"""Generated rota CSVs through the import `helpline rota import` runs: all or nothing.

People type bad CSVs. Whatever the file (columns shuffled, missing or repeated, bad dates and
times, overlapping shifts, two duty officers a day, unknown offices, bad phones, a byte order
mark, CRLF, blank lines, unicode names, thousands of rows), the import either refuses it with
messages that each name a line (and a field, for a bad value) and changes nothing, or imports
every row; never part of a file, never an unexpected exception.

The database holds a rota already (a duty officer on Tuesday, an adviser who has left), so
that a file can also clash with what is stored. Each example runs in a savepoint that is
rolled back, so each starts from the same rota.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.importer import COLUMNS, RotaImportError, import_rota, parse_rota
from rota.models import Adviser, Closure, Shift
from rota.service import name_key
from tests.constants import MONDAY, TUESDAY
from tests.factories import Clock, adviser

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same files on every run
)
ERROR = re.compile(r"line (?P<line>[0-9]+)(, (?P<field>[a-z_]+))?: \S")

# Good values, as people type them, and bad ones.
NAMES = st.sampled_from(
    [
        "Alex Adams",
        "alex  ADAMS",
        "Siân Öztürk",
        "José Núñez",
        "Zoë",
        "李雷",
        "Ann Ash",
        "Leah Left",
    ]
)
PHONES = st.sampled_from(["+447700900001", "07700 900002", "07700900003", "+44 1632 960004"])
OFFICES = st.sampled_from(["herefordshire", "worcestershire", "Worcestershire"])
DATES = st.dates(min_value=MONDAY - timedelta(days=3), max_value=MONDAY + timedelta(days=10))
TIMES = st.times().map(lambda t: f"{t:%H:%M}") | st.sampled_from(["9:00", "17:00", "00:00"])
DUTY = st.sampled_from(["yes", "no", "YES", " No "])
ODD = st.text(max_size=30) | st.text(st.characters(codec="utf-8"), max_size=300)
BAD: dict[str, st.SearchStrategy[str]] = {
    "name": st.sampled_from(["", "  ", "x" * 200, "ß" * 61]) | ODD,
    "phone": st.sampled_from(["12345", "+15555550100", "09011 123456", "0800 123 4567", ""]) | ODD,
    "office": st.sampled_from(["shropshire", "", "hereford shire"]) | ODD,
    "date": st.sampled_from(["2026-02-30", "30/11/2026", "2026-13-01", "", "2026-11-3"]) | ODD,
    "start": st.sampled_from(["25:00", "9.00", "12:60", "", "noon", "09:00:00"]) | ODD,
    "end": st.sampled_from(["24:00", "08:00", "-1:00", "", "5pm"]) | ODD,
    "duty_officer": st.sampled_from(["maybe", "", "y", "true"]) | ODD,
}
GOOD: dict[str, st.SearchStrategy[str]] = {
    "name": NAMES,
    "phone": PHONES,
    "office": OFFICES,
    "date": DATES.map(date.isoformat),
    "start": TIMES,
    "end": TIMES,
    "duty_officer": DUTY,
}


@st.composite
def header(draw: st.DrawFn) -> list[str]:
    """The columns, shuffled, in any case; sometimes one missing, repeated or unknown."""
    columns = draw(st.permutations(COLUMNS))
    fault = draw(st.sampled_from(["none", "none", "none", "missing", "repeated", "unknown"]))
    if fault == "missing":
        columns.remove(draw(st.sampled_from(COLUMNS)))
    elif fault == "repeated":
        columns.append(draw(st.sampled_from(COLUMNS)))
    elif fault == "unknown":
        columns.insert(
            draw(st.integers(0, len(columns))), draw(st.sampled_from(["notes", "", "é"]))
        )
    return [draw(st.sampled_from([c, c.upper(), f" {c.title()} "])) for c in columns]


@st.composite
def row(draw: st.DrawFn, columns: list[str]) -> list[str]:
    """One line's fields: mostly good values, sometimes a bad one, a field short or over."""
    fields = []
    for column in columns:
        key = column.strip().casefold()
        spoil = draw(st.integers(0, 9)) == 0
        if key in GOOD and not spoil:
            fields.append(draw(GOOD[key]))
        else:
            fields.append(draw(BAD.get(key, ODD)))
    width = draw(st.sampled_from(["same"] * 12 + ["short", "long"]))
    if width == "short" and fields:
        fields.pop()
    elif width == "long":
        fields.append(draw(ODD))
    return fields


@st.composite
def rota_file(draw: st.DrawFn) -> str:
    """A whole file as a person might save it: BOM or not, CRLF or LF, blank lines, a line
    that is not CSV at all."""
    columns = draw(header())
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 15)) == 0:
            out.write(draw(st.sampled_from(["", " , ,", '"unclosed,quote', "\x00"])) + ending)
        else:
            writer.writerow(draw(row(columns)))
    bom = draw(st.sampled_from(["", "", "\ufeff"]))
    return bom + out.getvalue()


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the rota's tables, column by column, as the database holds them."""
    session.flush()
    session.expire_all()
    rows = {}
    for model in (Adviser, Shift, Closure):
        columns = list(model.__table__.columns)
        found = session.execute(select(*columns).order_by(columns[0])).all()
        rows[model.__tablename__] = [tuple(r) for r in found]
    return rows


@pytest.fixture
def held(session: Session, clock: Clock) -> None:
    """A rota already held: a duty officer on Tuesday, and an adviser who left on Monday."""
    dee = adviser(session, "Dee Duty", "+447700900009", "herefordshire", TUESDAY)
    duty = session.scalars(select(Shift).where(Shift.adviser_id == dee.id)).one()
    duty.duty_officer = True
    leaver = adviser(session, "Leah Left", "+447700900008", "worcestershire", MONDAY)
    leaver.left_at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    session.commit()


@pytest.fixture
def savepoint(session: Session) -> Iterator[Any]:
    """Runs one example, then rolls back everything since the held rota was committed."""

    class Rollback:
        def __enter__(self) -> None:
            session.commit()  # the example starts from what is held

        def __exit__(self, *exc: object) -> None:
            session.rollback()
            session.expire_all()

    yield Rollback


def assert_named(errors: list[str], text: str) -> None:
    """Each message names a line of the file, and any field it names is a column."""
    lines = len(text.splitlines()) or 1
    assert errors
    for message in errors:
        found = ERROR.match(message)
        assert found, message
        assert 1 <= int(found["line"]) <= lines, message
        assert found["field"] is None or found["field"] in COLUMNS, message


def check_import(session: Session, settings: Settings, text: str, now: datetime) -> bool:
    """Import `text` as the CLI does; assert all or nothing. True when it was imported."""
    before = snapshot(session)
    try:
        result = import_rota(session, settings, text, now)
    except RotaImportError as refused:
        assert_named(refused.errors, text)
        # Not rolled back: the import itself must have written nothing.
        assert snapshot(session) == before
        return False
    rows = parse_rota(text, settings)
    held = {
        (a.name_key, s.day, s.start): (s.end, s.office, s.duty_officer, a.phone)
        for s, a in session.execute(select(Shift, Adviser).join(Adviser)).all()
    }
    for r in rows:
        assert held[(name_key(r.name), r.day, r.start)] == (
            r.end,
            r.office,
            r.duty_officer,
            r.phone,
        )
    assert result.shifts_added + result.shifts_updated + result.shifts_unchanged == len(rows)
    return True


@given(text=rota_file())
@EXAMPLES
def test_a_generated_rota_file_is_imported_whole_or_refused_naming_lines_and_changes_nothing(
    session: Session, settings: Settings, clock: Clock, held: None, savepoint: Any, text: str
) -> None:
    with savepoint():
        check_import(session, settings, text, clock())


SLOTS = [(time(9), time(12)), (time(12), time(17)), (time(18), time(20))]


@given(
    names=st.lists(NAMES, min_size=1, max_size=3, unique_by=name_key),
    days=st.lists(DATES, min_size=1, max_size=3, unique=True),
    slots=st.lists(st.sampled_from(SLOTS), min_size=1, max_size=3, unique=True),
    duties=st.lists(st.integers(0, 5).map(lambda n: n == 0), min_size=1, max_size=6),
    moved=st.booleans(),
)
@EXAMPLES
def test_clashes_between_rows_or_with_the_rota_held_are_refused_whole(
    session: Session,
    settings: Settings,
    clock: Clock,
    held: None,
    savepoint: Any,
    names: list[str],
    days: list[date],
    slots: list[tuple[time, time]],
    duties: list[bool],
    moved: bool,
) -> None:
    # Good values only: whatever is refused is refused for a clash (a second duty officer on
    # a day, within the file or with the one held; a row for an adviser who has left) or for
    # shifts that overlap, each clash named by its line.
    lines = [",".join(COLUMNS)]
    n = 0
    for i, name in enumerate(names):
        for day in days:
            for start, end in slots:
                if moved:  # an hour later: overlaps the next slot
                    start = time(start.hour + 1)
                duty = "yes" if duties[n % len(duties)] else "no"
                lines.append(
                    f"{name},07700 90010{i},herefordshire,{day},{start:%H:%M},{end:%H:%M},{duty}"
                )
                n += 1
    with savepoint():
        check_import(session, settings, "\r\n".join(lines) + "\r\n", clock())


@given(bad_at=st.integers(min_value=0, max_value=1999), field=st.sampled_from(COLUMNS))
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_huge_file_with_one_bad_line_imports_nothing(
    session: Session,
    settings: Settings,
    clock: Clock,
    savepoint: Any,
    bad_at: int,
    field: str,
) -> None:
    # Four advisers' shifts for 500 days, one of the 2,000 lines spoiled in one field.
    bad = {
        "name": " ",
        "phone": "123",
        "office": "nowhere",
        "date": "2026-02-30",
        "start": "9h",
        "end": "noon",
        "duty_officer": "perhaps",
    }
    out = [",".join(COLUMNS)]
    for i in range(2000):
        day = TUESDAY + timedelta(days=i // 4)
        values = dict(
            zip(
                COLUMNS,
                [
                    f"Adviser {i % 4}",
                    f"07700 90000{i % 4}",
                    "herefordshire",
                    day.isoformat(),
                    "09:00",
                    "17:00",
                    "yes" if i % 4 == 0 else "no",
                ],
                strict=True,
            )
        )
        if i == bad_at:
            values[field] = bad[field]
        out.append(",".join(values.values()))
    text = "\n".join(out) + "\n"
    with savepoint():
        before = snapshot(session)
        with pytest.raises(RotaImportError) as refused:
            import_rota(session, settings, text, clock())
        assert refused.value.errors == [refused.value.errors[0]]
        assert refused.value.errors[0].startswith(f"line {bad_at + 2}, {field}: ")
        assert snapshot(session) == before
    with savepoint():
        good = text.replace(f"\n{out[bad_at + 1]}\n", "\n")
        assert check_import(session, settings, good, clock())
