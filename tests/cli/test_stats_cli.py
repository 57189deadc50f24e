"""`helpline stats` and `helpline stats plan`, run as an administrator would run them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from callbacks import filing
from helpline.cli import main
from helpline.db import make_engine, session_factory
from tests.constants import BASE_URL, HEREFORD, MONDAY, PARENT, TOKEN, WORCS, london
from tests.factories import adviser, make_settings, played_call

ALEX = "+447700900001"


class StatsCli:
    """`helpline` with its own SQLite file."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        env = {"DATABASE_URL": self.url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE_URL}
        return self.runner.invoke(main, list(args), env=env)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output


@pytest.fixture
def cli(tmp_path: Path) -> StatsCli:
    """A migrated database holding one Monday: Alex answers a call for each county, and a
    Herefordshire caller hangs up after a minute."""
    cli = StatsCli(tmp_path)
    cli.ok("db", "upgrade")
    engine = make_engine(cli.url)
    settings = make_settings(DATABASE_URL=cli.url)
    with session_factory(engine)() as session:
        adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
        played_call(
            session, settings, "CA1", HEREFORD, london(MONDAY, 10), answered_after=10, talk=300
        )
        played_call(session, settings, "CA2", WORCS, london(MONDAY, 11), answered_after=30, talk=60)
        played_call(session, settings, "CA3", HEREFORD, london(MONDAY, 12), hang_up_after=60)
        session.commit()
    engine.dispose()
    return cli


def test_stats_json_follows_the_contract(cli: StatsCli) -> None:
    data = json.loads(cli.ok("stats", "--from", "2026-11-30", "--to", "2026-11-30", "--json"))

    assert (data["from"], data["to"]) == ("2026-11-30", "2026-11-30")
    hereford = data["offices"]["herefordshire"]
    assert hereford["calls"]["received"] == 2
    assert hereford["calls"]["abandoned"] == 1
    assert hereford["service_level"] == 0.5  # 1 within 20 s of 1 answered + 1 abandoned
    assert hereford["average_speed_of_answer_s"] == 10.0
    assert data["offices"]["worcestershire"]["calls"]["answered_by_partner"] == 1
    assert data["teams"]["herefordshire"]["calls_answered_for_partner"] == 1
    assert data["teams"]["herefordshire"]["talk_seconds"] == 360
    assert data["advisers"][0]["name"] == "Alex Adams"
    assert set(data["service_level_formula"]) == {"formula", "answer_within_s", "short_abandon_s"}


def test_stats_csv_has_a_header_and_one_measure_a_row(cli: StatsCli) -> None:
    out = cli.ok("stats", "--from", "2026-11-30", "--to", "2026-11-30", "--csv")

    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == "from,to,section,office,weekday,hour,adviser,measure,value"
    found = {(r["section"], r["office"], r["measure"]): r["value"] for r in rows}
    assert found[("calls", "herefordshire", "received")] == "2"
    assert found[("calls", "worcestershire", "service_level")] == "0.0"
    # The service level's two counts, as under service_level_calls in the JSON.
    assert found[("calls", "herefordshire", "service_level_answered_within_t")] == "1"
    assert found[("calls", "herefordshire", "service_level_counted")] == "2"
    assert found[("teams", "herefordshire", "calls_answered")] == "2"


def test_stats_prints_a_table_for_people_by_default(cli: StatsCli) -> None:
    out = cli.ok("stats", "--from", "2026-11-30", "--to", "2026-11-30", "--office", "herefordshire")

    assert "herefordshire" in out and "worcestershire" not in out
    assert "service level 50.0%" in out


def test_the_table_gives_the_oldest_open_callback_in_local_time(cli: StatsCli) -> None:
    engine = make_engine(cli.url)
    settings = make_settings(DATABASE_URL=cli.url)
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
    with session_factory(engine)() as session:
        filing.callback_for(session, settings, PARENT, "herefordshire", summer)
        session.commit()
    engine.dispose()
    out = cli.ok("stats", "--from", "2026-07-01", "--to", "2026-07-01", "--office", "herefordshire")

    assert "oldest_open_created_at 2026-07-01 10:0" in out and "BST" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-11-30", "--to", "2026-11-01"), "before --from"),
        (
            ("--from", "2025-11-29", "--to", "2026-11-30"),
            "The range can be at most 366 days: --from 2025-11-29 --to 2026-11-30 is 367 days",
        ),
        (("--from", "2026-11-30"), "or neither for the last 28 days"),
        (("--from", "30/11/2026", "--to", "2026-11-30"), "--from"),
        (("--from", "2026-11-01", "--to", "2026-11-30", "--office", "shropshire"), "shropshire"),
        (("--from", "2026-11-01", "--to", "2026-11-30", "--json", "--csv"), "one of"),
    ],
)
def test_bad_ranges_get_a_clear_error_and_exit_2(
    cli: StatsCli, args: tuple[str, ...], message: str
) -> None:
    result = cli.run("stats", *args)

    assert result.exit_code == 2
    assert message in result.output


def test_without_dates_it_reports_the_last_28_days_as_the_page_does(cli: StatsCli) -> None:
    before = datetime.now(ZoneInfo("Europe/London")).date()  # the service's time zone
    data = json.loads(cli.ok("stats", "--json"))
    after = datetime.now(ZoneInfo("Europe/London")).date()  # the same day, unless at midnight

    assert (data["from"], data["to"]) in {
        (str(today - timedelta(days=27)), str(today)) for today in (before, after)
    }


def test_a_range_of_a_leap_year_is_reported(cli: StatsCli) -> None:
    # 366 days, the longest range the statistics page allows too.
    out = cli.ok("stats", "--from", "2025-11-30", "--to", "2026-11-30", "--json")

    data = json.loads(out)
    assert (data["from"], data["to"]) == ("2025-11-30", "2026-11-30")
    assert data["offices"]["herefordshire"]["calls"]["received"] == 2


def test_plan_gives_erlangs_advisers_needed_and_a_table(tmp_path: Path) -> None:
    out = StatsCli(tmp_path).ok(
        "stats",
        "plan",
        "--calls-per-hour",
        "720",
        "--handle-seconds",
        "240",
        "--answer-within",
        "20",
        "--target",
        "0.8",
        "--json",
    )

    data = json.loads(out)
    assert data["traffic_erlangs"] == 48
    assert data["advisers_needed"] == 54
    assert [row["advisers"] for row in data["table"]] == list(range(49, 58))
    row_55 = data["table"][6]
    assert row_55 == {
        "advisers": 55,
        "p_wait": 0.2387,
        "service_level": 0.8668,
        "average_speed_of_answer_s": 8.18,
    }


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--target", "80"),
        ("--target", "0"),
        ("--calls-per-hour", "-5"),
        ("--handle-seconds", "-1"),
        ("--answer-within", "-20"),
    ],
)
def test_plan_refuses_bad_input_with_exit_2(tmp_path: Path, option: str, value: str) -> None:
    args = {
        "--calls-per-hour": "720",
        "--handle-seconds": "240",
        "--answer-within": "20",
        "--target": "0.8",
    }
    args[option] = value

    result = StatsCli(tmp_path).run("stats", "plan", *[x for kv in args.items() for x in kv])

    assert result.exit_code == 2
    assert option in result.output


def test_exports_from_the_command_line_are_audited_without_personal_data(cli: StatsCli) -> None:
    from sqlalchemy import select

    from accounts.models import AuditEntry

    cli.ok("stats", "--from", "2026-11-30", "--to", "2026-11-30", "--csv")
    cli.ok("stats", "--from", "2026-11-30", "--to", "2026-11-30")  # a table on screen: no export
    cli.ok("calls", "list", "--json")
    cli.ok("callbacks", "list")

    engine = make_engine(cli.url)
    with session_factory(engine)() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    engine.dispose()
    assert [e.action for e in entries] == ["stats-exported", "calls-exported", "callbacks-listed"]
    assert {e.actor_email for e in entries} == {"command line"}
    assert "+447700900123" not in repr([(e.detail, e.subject_id) for e in entries])
