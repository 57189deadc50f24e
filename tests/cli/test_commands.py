"""The `helpline` command, driven as an administrator would drive it, on a SQLite file per test.

The wall clock is pinned to a ticking clock that starts on a Wednesday late morning in London, so
that office hours and rota shifts do not depend on when the tests run.
"""

from __future__ import annotations

import json
import time as monotonic_time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from helpline import settings as settings_module
from helpline.cli import main
from helpline.demo import demo_csv
from tests.constants import ANN, BASE_URL, BEN, CAT, DAN, HEREFORD, PARENT, TOKEN, WEDNESDAY, WORCS

WEDNESDAY_LATE_MORNING = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # London is on GMT
HEADER = "name,phone,office,date,start,end,duty_officer"
CALL_KEYS = {"sid", "from", "office", "status", "outcome", "answered_by", "started_at", "ended_at"}


class TickingClock:
    """Now: a fixed instant plus the real time elapsed since the test began."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.began = monotonic_time.monotonic()

    def __call__(self) -> datetime:
        return self.at + timedelta(seconds=monotonic_time.monotonic() - self.began)


class Cli:
    """Runs `helpline ...` with an environment of its own and one SQLite database."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.db_path = tmp_path / "cli.sqlite3"
        self.runner = CliRunner()
        self.config: str | None = None  # HELPLINE_CONFIG, if any

    def env(self, *, demo: bool = False, token: str = TOKEN) -> dict[str, str | None]:
        return {
            "DATABASE_URL": None if demo else f"sqlite:///{self.db_path}",
            "HELPLINE_DEMO_DATABASE_URL": f"sqlite:///{self.db_path}",
            "TWILIO_AUTH_TOKEN": token,
            "PUBLIC_BASE_URL": BASE_URL,
            "HELPLINE_DEMO": "1" if demo else "",
            "HELPLINE_CONFIG": self.config,
            "TWILIO_ACCOUNT_SID": None,
        }

    def run(self, *args: str, demo: bool = False, token: str = TOKEN) -> Result:
        return self.runner.invoke(main, list(args), env=self.env(demo=demo, token=token))

    def ok(self, *args: str, demo: bool = False, token: str = TOKEN) -> str:
        """Run a command that must succeed; its output."""
        result = self.run(*args, demo=demo, token=token)
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    def write(self, name: str, content: str) -> str:
        path = self.tmp_path / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    def rota(self, *lines: str, name: str = "rota.csv") -> str:
        return self.write(name, "\n".join([HEADER, *lines]) + "\n")

    def count(self, table: str) -> int:
        engine = create_engine(f"sqlite:///{self.db_path}")
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
        finally:
            engine.dispose()

    def calls(self, demo: bool = False) -> list[dict[str, object]]:
        calls = json.loads(self.ok("calls", "list", "--json", demo=demo))
        assert isinstance(calls, list)
        return calls


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.setattr("helpline.clock.now", TickingClock(WEDNESDAY_LATE_MORNING))
    cli = Cli(tmp_path)
    assert "up to date" in cli.ok("db", "upgrade")
    yield cli


@pytest.fixture
def demo(cli: Cli) -> Cli:
    """The demo's rota (two advisers on shift all day in each office), imported from CSV."""
    settings = settings_module.load({"HELPLINE_DEMO": "1"})
    path = cli.write("demo.csv", demo_csv(settings, WEDNESDAY_LATE_MORNING))
    assert "Added 4 advisers" in cli.ok("rota", "import", path, demo=True)
    return cli


def caller_ids(output: str) -> list[str]:
    """The phones rung, in order, from the simulator's transcript."""
    return [
        line.split("rings adviser ")[1].split()[0]
        for line in output.splitlines()
        if "rings adviser" in line
    ]


# helpline db upgrade


def test_db_upgrade_twice_is_harmless_and_keeps_data(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,no"))

    assert "up to date" in cli.ok("db", "upgrade")

    assert cli.count("adviser") == 1
    assert cli.count("shift") == 1
    assert cli.calls() == []


# helpline rota import


def test_rota_import_prints_a_summary_and_a_second_import_changes_nothing(cli: Cli) -> None:
    path = cli.rota(
        f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,yes",
        f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,13:00,no",
        "Cara Clarke,07700 900003,worcestershire,2026-12-02,09:30,16:30,no",
    )

    first = cli.ok("rota", "import", path)
    second = cli.ok("rota", "import", path)

    assert "Added 2 advisers and updated 0; added 3 shifts, updated 0" in first
    assert (
        "Added 0 advisers and updated 0; added 0 shifts, updated 0, removed 0 and left 3 "
        "unchanged. Nothing changed." in second
    )
    assert (cli.count("adviser"), cli.count("shift")) == (2, 3)


def test_rota_import_with_a_new_phone_updates_the_adviser(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,no"))

    output = cli.ok(
        "rota",
        "import",
        cli.rota("alex adams,+447700900009,herefordshire,2026-12-02,09:00,17:00,no", name="b.csv"),
    )

    assert "Added 0 advisers and updated 1" in output
    assert "left 1 unchanged" in output
    assert (cli.count("adviser"), cli.count("shift")) == (1, 1)


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        ("Bryn Bowen,not a phone,herefordshire,2026-12-02,09:00,17:00,no", "phone"),
        ("Bryn Bowen,+447700900002,shropshire,2026-12-02,09:00,17:00,no", "office"),
        ("Bryn Bowen,+447700900002,herefordshire,02/12/2026,09:00,17:00,no", "date"),
        ("Bryn Bowen,+447700900002,herefordshire,2026-12-02,17:00,09:00,no", "end"),
        ("Bryn Bowen,+447700900002,herefordshire,2026-12-02,09:00,17:00,maybe", "duty_officer"),
    ],
)
def test_rota_import_with_a_bad_row_names_line_and_field_and_imports_nothing(
    cli: Cli, bad_row: str, field: str
) -> None:
    path = cli.rota(
        f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,no",
        bad_row,
        "Cara Clarke,+447700900003,worcestershire,2026-12-02,09:00,17:00,no",
    )

    result = cli.run("rota", "import", path)

    assert result.exit_code != 0
    assert f"line 3, {field}:" in result.output
    assert "nothing imported" in result.output
    assert (cli.count("adviser"), cli.count("shift")) == (0, 0)


def test_a_bad_file_after_a_good_one_leaves_the_good_import_alone(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-02,09:00,17:00,no"))
    bad = cli.rota(
        f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no",
        "Cara Clarke,+447700900003,worcestershire,2026-12-03,09:00,25:00,no",
        name="bad.csv",
    )

    result = cli.run("rota", "import", bad)

    assert result.exit_code != 0
    assert "line 3, end:" in result.output
    assert (cli.count("adviser"), cli.count("shift")) == (1, 1)


# helpline rota remove


def test_rota_remove_clears_one_advisers_day(cli: Cli) -> None:
    cli.ok(
        "rota",
        "import",
        cli.rota(
            f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,13:00,no",
            f"Alex Adams,{ANN},worcestershire,2026-12-03,13:00,17:00,no",
            f"Alex Adams,{ANN},herefordshire,2026-12-04,09:00,17:00,no",
            f"Bryn Bowen,{BEN},herefordshire,2026-12-03,09:00,17:00,no",
        ),
    )

    output = cli.ok("rota", "remove", "ALEX adams", "2026-12-03")

    assert "Alex Adams on 2026-12-03: removed 2 shifts." in output
    assert cli.count("shift") == 2
    again = cli.ok("rota", "remove", "Alex Adams", "2026-12-03")
    assert "Alex Adams has no shifts on 2026-12-03; nothing changed." in again


def test_rota_remove_today_ends_the_shift_in_progress_now(cli: Cli) -> None:
    today = f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,no"
    cli.ok("rota", "import", cli.rota(today))

    output = cli.ok("rota", "remove", "Alex Adams", str(WEDNESDAY))

    assert f"Alex Adams on {WEDNESDAY}: the shift in progress ends now." in output
    result = cli.run("simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams")
    assert caller_ids(result.output) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Zed Zimmer", "2026-12-03"), "no adviser called 'Zed Zimmer'"),
        (("Alex Adams", "03/12/2026"), "'03/12/2026' is not a date like 2026-11-30"),
    ],
)
def test_rota_remove_refuses_an_unknown_adviser_or_a_bad_date(
    cli: Cli, args: tuple[str, str], message: str
) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no"))

    result = cli.run("rota", "remove", *args)

    assert result.exit_code != 0
    assert message in result.output
    assert cli.count("shift") == 1


# helpline advisers leave


def test_an_adviser_who_leaves_is_rung_no_more_and_their_callbacks_go_back(cli: Cli) -> None:
    cli.ok(
        "rota",
        "import",
        cli.rota(
            f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,no",
            f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no",
            f"Alex Adams,{ANN},herefordshire,2026-12-04,09:00,17:00,no",
        ),
    )
    callback_id = leave_a_message(cli)  # Alex does not answer
    cli.ok("callbacks", "assign", str(callback_id), "Alex Adams")

    output = cli.ok("advisers", "leave", "alex ADAMS", "--by", "Sam Admin")

    assert (
        "Alex Adams has left: their shift in progress ends now, 2 later shifts were removed "
        "and 1 open callback went back to the pool." in output
    )
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["status"], callback["assigned_to"]) == ("open", None)
    result = cli.run("simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams")
    assert caller_ids(result.output) == []
    assert cli.count("shift") == 1  # today's, up to now


def test_a_leaver_still_listed_in_a_later_rota_stays_away_until_brought_back(cli: Cli) -> None:
    rota = cli.rota(
        f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,no",
        f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no",
        f"Bryn Bowen,{BEN},herefordshire,2026-12-03,09:00,17:00,no",
    )
    cli.ok("rota", "import", rota)
    cli.ok("advisers", "leave", "Alex Adams")

    refused = cli.run("rota", "import", rota)  # the council's spreadsheet, re-exported

    assert refused.exit_code != 0
    assert "nothing imported" in refused.output
    assert f"line 2, name: Alex Adams left on {WEDNESDAY};" in refused.output
    assert "line 3, name: Alex Adams left on" in refused.output
    assert 'helpline advisers return "Alex Adams"' in refused.output
    assert cli.count("shift") == 2  # today's, up to now, and Bryn's tomorrow
    result = cli.run("simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams")
    assert caller_ids(result.output) == []
    callback_id = leave_a_message(cli)
    assigned = cli.run("callbacks", "assign", str(callback_id), "Alex Adams")
    assert assigned.exit_code != 0
    assert "Alex Adams has left the service" in assigned.output

    back = cli.ok("advisers", "return", "alex adams")

    assert f"Alex Adams is back (they had left on {WEDNESDAY})" in back
    assert "Added 0 advisers" in cli.ok("rota", "import", rota)
    result = cli.run("simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams")
    assert caller_ids(result.output) == [ANN]


def test_leaving_twice_says_they_already_left(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no"))
    cli.ok("advisers", "leave", "Alex Adams")

    again = cli.ok("advisers", "leave", "ALEX ADAMS")

    assert f"Alex Adams already left on {WEDNESDAY}; nothing changed." in again


def test_bringing_back_an_adviser_who_has_not_left_changes_nothing(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no"))

    output = cli.ok("advisers", "return", "Alex Adams")

    assert "Alex Adams has not left; nothing changed." in output
    unknown = cli.run("advisers", "return", "Zed Zimmer")
    assert unknown.exit_code != 0
    assert "no adviser called 'Zed Zimmer'" in unknown.output


def test_advisers_leave_names_an_unknown_adviser(cli: Cli) -> None:
    result = cli.run("advisers", "leave", "Zed Zimmer")

    assert result.exit_code != 0
    assert "no adviser called 'Zed Zimmer'" in result.output


# helpline office close / open


def test_office_close_and_open(cli: Cli) -> None:
    closed = cli.ok(
        "office", "close", "herefordshire", "--until", "2030-01-01T17:00", "--reason", "training"
    )
    assert "herefordshire is closed until 2030-01-01T17:00:00+00:00" in closed
    assert cli.count("closure") == 1

    assert "herefordshire is open (1 closure(s) ended)" in cli.ok("office", "open", "herefordshire")
    assert "(0 closure(s) ended)" in cli.ok("office", "open", "herefordshire")


def test_office_close_until_a_summer_time_is_read_as_london_time(cli: Cli) -> None:
    output = cli.ok("office", "close", "worcestershire", "--until", "2030-07-01T17:00")

    assert "until 2030-07-01T17:00:00+01:00" in output


def test_office_close_without_until_lasts_until_reopened(cli: Cli) -> None:
    assert "worcestershire is closed until reopened" in cli.ok("office", "close", "worcestershire")


@pytest.mark.parametrize("command", ["close", "open"])
def test_an_unknown_office_is_refused_listing_the_known_ones(cli: Cli, command: str) -> None:
    result = cli.run("office", command, "nowhere")

    assert result.exit_code != 0
    assert "no office 'nowhere'" in result.output
    assert "herefordshire, worcestershire" in result.output
    assert cli.count("closure") == 0


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2020-01-01T09:00", "must end in the future"),
        ("2026-12-02T10:59", "must end in the future"),  # a minute before the pinned clock
        ("next tuesday", "'next tuesday' is not an ISO time"),
        ("2030-13-01T09:00", "is not an ISO time"),
    ],
)
def test_office_close_until_in_the_past_or_not_iso_is_refused(
    cli: Cli, until: str, message: str
) -> None:
    result = cli.run("office", "close", "herefordshire", "--until", until)

    assert result.exit_code != 0
    assert message in result.output
    assert cli.count("closure") == 0


def test_a_closed_office_sends_its_calls_to_the_partner_until_reopened(demo: Cli) -> None:
    simulate = ("simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams")
    partner = (*simulate, "--accept", "Cara Clarke")

    demo.ok("office", "close", "herefordshire", "--reason", "training", demo=True)
    while_closed = demo.ok(*partner, demo=True)
    demo.ok("office", "open", "herefordshire", demo=True)
    reopened = demo.ok(*simulate, demo=True)

    assert ANN not in caller_ids(while_closed)
    assert "outcome: answered_by_partner" in while_closed
    assert caller_ids(reopened)[0] == ANN
    assert reopened.rstrip().endswith("outcome: answered")
    newest, oldest = demo.calls(demo=True)
    assert (oldest["outcome"], oldest["answered_by"]) == ("answered_by_partner", "Cara Clarke")
    assert (newest["outcome"], newest["answered_by"]) == ("answered", "Alex Adams")


# helpline simulate call and helpline calls list --json


def test_simulated_call_rings_past_a_voicemail_to_the_adviser_who_accepts(demo: Cli) -> None:
    output = demo.ok(
        "--demo",
        "simulate",
        "call",
        "--to",
        "herefordshire",
        "--voicemail",
        "Alex Adams",
        "--accept",
        "Bryn Bowen",
    )

    assert "hears: Thank you for calling the Herefordshire helpline" in output
    assert caller_ids(output) == [ANN, BEN]
    assert f"[voicemail] {ANN} answers" in output
    assert f"caller connected to {BEN}" in output
    assert f"caller connected to {ANN}" not in output
    assert output.rstrip().endswith("outcome: answered")

    [call] = demo.calls(demo=True)
    assert set(call) == CALL_KEYS
    assert call["from"] == PARENT
    assert call["office"] == "herefordshire"
    assert call["status"] == "completed"
    assert (call["outcome"], call["answered_by"]) == ("answered", "Bryn Bowen")
    assert str(call["sid"]).startswith("CA")
    started = datetime.fromisoformat(str(call["started_at"]))
    ended = datetime.fromisoformat(str(call["ended_at"]))
    assert started.utcoffset() is not None and ended.utcoffset() is not None
    assert WEDNESDAY_LATE_MORNING <= started <= ended < WEDNESDAY_LATE_MORNING + timedelta(hours=1)


def test_withheld_caller_nobody_accepts_reaches_the_answer_machine(demo: Cli) -> None:
    demo.ok("simulate", "call", "--to", "herefordshire", "--accept", "Bryn Bowen", demo=True)

    output = demo.ok(
        "simulate",
        "call",
        "--from",
        "withheld",
        "--to",
        "worcestershire",
        "--message-seconds",
        "30",
        demo=True,
    )

    assert "hears: Thank you for calling the Worcestershire helpline" in output
    # Worcestershire's advisers first, then the partner office's, then the answer machine.
    assert caller_ids(output)[:2] == [CAT, DAN]
    assert set(caller_ids(output)) == {ANN, BEN, CAT, DAN}
    assert "caller connected" not in output
    assert "leaves a 30 s message" in output
    assert output.rstrip().endswith("outcome: voicemail")

    newest, older = demo.calls(demo=True)  # newest first
    assert set(newest) == CALL_KEYS
    assert newest["from"] is None
    assert (newest["office"], newest["outcome"], newest["answered_by"]) == (
        "worcestershire",
        "voicemail",
        None,
    )
    assert older["answered_by"] == "Bryn Bowen"


def test_simulated_call_outside_the_demo_uses_office_hours_and_the_rota(cli: Cli) -> None:
    cli.ok(
        "rota",
        "import",
        cli.rota(
            f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,yes",
            f"Bryn Bowen,{BEN},herefordshire,{WEDNESDAY},13:00,17:00,no",  # not on shift yet
        ),
    )

    result = cli.run("simulate", "call", "--to", "herefordshire", "--accept", "alex ADAMS")

    assert result.exit_code == 0, result.output
    assert caller_ids(result.output) == [ANN]
    # the adviser sees the county's helpline number, never the parent's
    ring = next(line for line in result.output.splitlines() if "rings adviser" in line)
    assert "caller ID +441632960001" in ring and PARENT not in ring
    [call] = cli.calls()
    assert (call["outcome"], call["answered_by"]) == ("answered", "Alex Adams")


def test_simulate_call_at_another_time_follows_that_times_hours_and_rota(cli: Cli) -> None:
    cli.ok(
        "rota",
        "import",
        cli.rota(
            f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,yes",
            f"Bryn Bowen,{BEN},herefordshire,{WEDNESDAY},13:00,17:00,no",
        ),
    )
    afternoon = f"{WEDNESDAY}T14:00"
    result = cli.run(
        "simulate", "call", "--to", "herefordshire", "--accept", "Bryn Bowen", "--at", afternoon
    )
    assert result.exit_code == 0, result.output
    assert BEN in caller_ids(result.output)
    evening = cli.run("simulate", "call", "--to", "herefordshire", "--at", f"{WEDNESDAY}T19:30")
    assert caller_ids(evening.output) == []
    assert "closed at the moment" in evening.output
    refused = cli.run("simulate", "call", "--at", "tomorrow")
    assert refused.exit_code != 0 and "not an ISO time" in refused.output


def test_simulate_call_without_an_auth_token_is_refused(cli: Cli) -> None:
    result = cli.run("simulate", "call", "--to", "herefordshire", token="")

    assert result.exit_code != 0
    assert "TWILIO_AUTH_TOKEN is not set" in result.output
    assert cli.calls() == []


def test_simulate_call_naming_an_unknown_adviser_is_refused(demo: Cli) -> None:
    result = demo.run("simulate", "call", "--accept", "Zed Zimmer", demo=True)

    assert result.exit_code != 0
    assert "no adviser called 'Zed Zimmer'" in result.output
    assert demo.calls(demo=True) == []


def test_simulate_call_to_an_unknown_office_is_refused(demo: Cli) -> None:
    result = demo.run("simulate", "call", "--to", "worcester", "--accept", "Cara Clarke", demo=True)

    assert result.exit_code != 0
    assert "herefordshire, worcestershire" in result.output
    assert demo.calls(demo=True) == []


# helpline callbacks assign


def leave_a_message(cli: Cli) -> int:
    """A parent's message on the answer machine (nobody is on shift now); the callback's id."""
    cli.ok("simulate", "call", "--to", "herefordshire", "--message-seconds", "20")
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    return int(callback["id"])


def test_assigning_to_an_adviser_off_shift_warns_and_the_assignment_stands(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,2026-12-03,09:00,17:00,no"))
    callback_id = leave_a_message(cli)

    output = cli.ok("callbacks", "assign", str(callback_id), "ALEX ADAMS")

    assert f"callback {callback_id} assigned to Alex Adams" in output
    assert (
        "warning: Alex Adams is not on shift now; the callback stays with them until their "
        "next shift ends (Thursday 3 December 17:00)." in output
    )
    assert "returned 0 callback(s)" in cli.ok("jobs", "run", "return-to-pool")
    unknown = cli.run("jobs", "run", "return-to-the-pool")
    assert unknown.exit_code == 2 and "no job 'return-to-the-pool'" in unknown.output
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["status"], callback["assigned_to"]) == ("assigned", "Alex Adams")


def test_a_second_outcome_while_the_retry_waits_corrects_the_attempt_made(cli: Cli) -> None:
    callback_id = str(leave_a_message(cli))
    first = cli.ok("callbacks", "outcome", callback_id, "no-answer", "--note", "first")
    assert f"callback {callback_id}: a retry is due from " in first
    due = first.split("a retry is due from ")[1].strip()

    corrected = cli.ok("callbacks", "outcome", callback_id, "left-message", "--note", "correction")

    assert corrected.strip() == (
        f"callback {callback_id}: attempt 1 of 3 corrected to left-message; "
        f"a retry is due from {due}"
    )
    cli.ok("callbacks", "outcome", callback_id, "no-answer")
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["status"], callback["attempts"]) == ("open", 1)

    done = cli.ok("callbacks", "outcome", callback_id, "spoke")

    assert done.strip() == f"callback {callback_id}: attempt 1 of 3 corrected to spoke; completed"
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["status"], callback["attempts"]) == ("completed", 1)


# an office closed until further notice


def test_a_message_while_the_office_is_closed_until_further_notice_waits_with_no_deadline(
    cli: Cli,
) -> None:
    cli.ok("office", "close", "herefordshire", "--reason", "flood")

    output = cli.ok("simulate", "call", "--to", "herefordshire", "--message-seconds", "30")

    assert output.rstrip().endswith("outcome: voicemail")
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["phone"], callback["office"], callback["due_at"]) == (
        PARENT,
        "herefordshire",
        None,
    )
    assert "no deadline: the office has no opening in sight" in cli.ok("callbacks", "list")

    retry = cli.ok("callbacks", "outcome", str(callback["id"]), "no-answer")

    # Two plain hours later, since the office's hours cannot be counted on.
    due = datetime.fromisoformat(retry.split("a retry is due from ")[1].strip())
    assert (
        timedelta(0) <= due - (WEDNESDAY_LATE_MORNING + timedelta(hours=2)) < timedelta(minutes=1)
    )

    reopened = cli.ok("office", "open", "herefordshire")

    assert "(1 closure(s) ended)" in reopened
    assert "1 waiting callback(s) now have a deadline" in reopened
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    # The clock starts on reopening, on Wednesday late morning: due on Friday late morning.
    due = datetime.fromisoformat(callback["due_at"])
    friday = WEDNESDAY_LATE_MORNING + timedelta(days=2)
    assert timedelta(0) <= due - friday < timedelta(minutes=1)
    listed = cli.ok("jobs", "list")
    assert "start-clocks" in listed and "pseudonymise-numbers" in listed


# an office removed from the configuration while its callbacks remain

HOURS = """
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-16:30"]
"""


def test_the_queue_still_works_a_callback_whose_office_was_removed(cli: Cli) -> None:
    cli.ok("rota", "import", cli.rota(f"Alex Adams,{ANN},herefordshire,{WEDNESDAY},09:00,17:00,no"))
    cli.config = cli.write(
        "three-offices.toml",
        "".join(
            f'[offices.{key}]\nname = "{key.title()}"\nnumbers = ["{number}"]\n'
            f"fallback = []\n[offices.{key}.hours]{HOURS}\n"
            for key, number in (
                ("herefordshire", HEREFORD),
                ("worcestershire", WORCS),
                ("leominster", "+441632960003"),
            )
        ),
    )
    cli.ok("simulate", "call", "--to", "leominster", "--message-seconds", "20")
    cli.config = None  # Leominster's office is gone from the configuration

    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["office"], callback["status"]) == ("leominster", "open")
    assert "leominster" in cli.ok("callbacks", "list")
    assert "raised 0 deadline warning(s)" in cli.ok("jobs", "run", "warn-deadlines")
    assert "no callback waits for an opening" in cli.ok("jobs", "run", "start-clocks")
    assert "assigned 1 of 1" in cli.ok("jobs", "run", "assign-callbacks")

    retry = cli.ok("callbacks", "outcome", str(callback["id"]), "no-answer")

    due = datetime.fromisoformat(retry.split("a retry is due from ")[1].strip())
    assert (
        timedelta(0) <= due - (WEDNESDAY_LATE_MORNING + timedelta(hours=2)) < timedelta(minutes=1)
    )
    [callback] = json.loads(cli.ok("callbacks", "list", "--json"))
    assert (callback["status"], callback["attempts"]) == ("open", 1)


def test_pseudonymise_numbers_refuses_to_run_without_its_key(cli: Cli) -> None:
    refused = cli.run("jobs", "run", "pseudonymise-numbers")

    assert refused.exit_code != 0
    assert "pseudonymise-numbers failed: PseudonymKeyMissing" in refused.output
    assert "FAILED" in cli.ok("jobs", "list")
    # The demo has a published key.
    ran = cli.ok("jobs", "run", "pseudonymise-numbers", demo=True)
    assert "pseudonymised the numbers of 0 call(s), 0 message(s) and 0 callback(s)" in ran
