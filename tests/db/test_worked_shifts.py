"""Shifts already worked stay on the rota: statistics credit work to the team of the shift the
adviser was on at the time, so neither `rota remove` nor a rota import may delete one. A shift
in progress is cut short at now; only what is still to come is removed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.cli import main
from helpline.settings import Settings
from rota import service as rota
from rota.importer import import_rota
from rota.models import Shift
from tests.factories import Clock, adviser, shift

FRIDAY_BEFORE = date(2026, 11, 27)
MONDAY = date(2026, 11, 30)  # the clock: Monday 10:00
ALEX = "+447700900001"
HEADER = "name,phone,office,date,start,end,duty_officer"


def shifts_of(session: Session, adviser_id: int) -> list[tuple[date, time, time, str]]:
    session.expire_all()
    return [
        (s.day, s.start, s.end, s.office)
        for s in session.scalars(
            select(Shift).where(Shift.adviser_id == adviser_id).order_by(Shift.starts_at)
        )
    ]


def test_removing_a_past_day_keeps_the_shifts_worked_on_it(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "herefordshire", FRIDAY_BEFORE)

    stopped = rota.remove_day(session, settings, alex, FRIDAY_BEFORE, clock())

    assert stopped == rota.Stopped(cut_short=0, removed=0, kept=1)
    assert shifts_of(session, alex.id) == [(FRIDAY_BEFORE, time(9), time(17), "herefordshire")]


def test_removing_today_keeps_the_morning_worked_ends_the_shift_in_progress_and_drops_the_rest(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY, time(7), time(9, 30))
    shift(session, alex, "worcestershire", MONDAY, time(9, 30), time(13))
    shift(session, alex, "herefordshire", MONDAY, time(14), time(17))

    stopped = rota.remove_day(session, settings, alex, MONDAY, clock())

    assert stopped == rota.Stopped(cut_short=1, removed=1, kept=1)
    assert shifts_of(session, alex.id) == [
        (MONDAY, time(7), time(9, 30), "herefordshire"),
        (MONDAY, time(9, 30), time(10), "worcestershire"),
    ]


def csv_text(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def test_an_import_that_moves_a_shift_in_progress_cuts_it_short_rather_than_deleting_it(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "worcestershire", MONDAY, time(8), time(17))

    result = import_rota(
        session,
        settings,
        csv_text(f"Alex Adams,{ALEX},herefordshire,{MONDAY},12:00,17:00,no"),
        clock(),
    )

    # The two hours worked for Worcestershire keep their team; the afternoon is Herefordshire's.
    assert shifts_of(session, alex.id) == [
        (MONDAY, time(8), time(10), "worcestershire"),
        (MONDAY, time(12), time(17), "herefordshire"),
    ]
    assert (result.shifts_added, result.shifts_removed, result.shifts_cut_short) == (1, 0, 1)
    assert "Ended 1 shift in progress now." in result.summary()


def test_an_import_that_no_longer_lists_a_worked_shift_leaves_it_alone(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "worcestershire", FRIDAY_BEFORE)
    shift(session, alex, "worcestershire", date(2026, 12, 1), time(9), time(12))
    rows = csv_text(
        f"Alex Adams,{ALEX},herefordshire,{FRIDAY_BEFORE},13:00,17:00,no",
        f"Alex Adams,{ALEX},herefordshire,2026-12-01,13:00,17:00,no",
    )

    result = import_rota(session, settings, rows, clock())

    assert shifts_of(session, alex.id) == [
        (FRIDAY_BEFORE, time(9), time(17), "worcestershire"),  # worked: it stays
        (FRIDAY_BEFORE, time(13), time(17), "herefordshire"),
        (date(2026, 12, 1), time(13), time(17), "herefordshire"),  # still to come: moved
    ]
    assert (result.shifts_removed, result.shifts_kept) == (1, 1)


# helpline rota remove, on a date already worked


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str | None]]:
    monkeypatch.setattr("helpline.clock.now", lambda: datetime(2026, 11, 30, 10, tzinfo=UTC))
    env: dict[str, str | None] = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3",
        "TWILIO_AUTH_TOKEN": "t",
        "HELPLINE_CONFIG": None,
        "HELPLINE_DEMO": "",
        "TWILIO_ACCOUNT_SID": None,
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    rota_file = tmp_path / "rota.csv"
    rota_file.write_text(
        csv_text(f"Alex Adams,{ALEX},herefordshire,{FRIDAY_BEFORE},09:00,17:00,no")
    )
    assert runner.invoke(main, ["rota", "import", str(rota_file)], env=env).exit_code == 0
    yield env


def test_rota_remove_on_a_day_already_worked_says_nothing_changed(
    cli_env: dict[str, str | None],
) -> None:
    runner = CliRunner()

    result = runner.invoke(main, ["rota", "remove", "Alex Adams", str(FRIDAY_BEFORE)], env=cli_env)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Alex Adams on {FRIDAY_BEFORE}: 1 shift already worked stays on the rota; nothing changed."
    )
