"""`helpline --demo simulate ...` as a tester or a script runs it, on a demo database of its own;
the call log is read back with `calls list --json`, as a user would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from helpline import settings as settings_module
from helpline.cli import main
from helpline.demo import demo_csv
from rota.calendar import local_instant

NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday late morning; London is on GMT
LONDON = ZoneInfo("Europe/London")
ALEX, BRYN = "+447700900001", "+447700900002"


class Demo:
    """Runs `helpline --demo ...` against a demo database in a folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        env = {
            "HELPLINE_DEMO_DATABASE_URL": f"sqlite:///{self.folder}/demo.sqlite3",
            "DATABASE_URL": None,
            "HELPLINE_DEMO": None,
            "HELPLINE_CONFIG": None,
            "TWILIO_AUTH_TOKEN": None,
            "TWILIO_ACCOUNT_SID": None,
            "PUBLIC_BASE_URL": None,
        }
        return self.runner.invoke(main, ["--demo", *args], env=env)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.stdout

    def play(self, *args: str) -> dict[str, Any]:
        """Play a call to Herefordshire with --json; what it printed."""
        report = json.loads(self.ok("simulate", "call", "--to", "herefordshire", "--json", *args))
        assert isinstance(report, dict)
        return report

    def calls(self) -> list[dict[str, Any]]:
        listed = json.loads(self.ok("calls", "list", "--json", "--limit", "1000"))
        assert isinstance(listed, list)
        return listed


def seconds(call: dict[str, Any], start: str, end: str) -> float:
    return (datetime.fromisoformat(call[end]) - datetime.fromisoformat(call[start])).total_seconds()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    """A demo whose rota (two advisers in each office, all day) is in place; now is fixed."""
    monkeypatch.setattr("helpline.clock.now", lambda: NOW)
    demo = Demo(tmp_path)
    rota = tmp_path / "demo.csv"
    rota.write_text(demo_csv(settings_module.load({"HELPLINE_DEMO": "1"}), NOW), encoding="utf-8")
    demo.ok("rota", "import", str(rota))
    return demo


def test_the_first_demo_command_on_a_fresh_demo_makes_its_database_and_rota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("helpline.clock.now", lambda: NOW)
    fresh = Demo(tmp_path / "fresh")

    played = fresh.run(
        "simulate",
        "call",
        "--to",
        "herefordshire",
        "--voicemail",
        "Alex Adams",
        "--accept",
        "Bryn Bowen",
    )

    assert played.exit_code == 0, played.output
    assert "Demo: made the demo rota for the week from today" in played.stderr
    assert f"caller connected to {BRYN}" in played.stdout
    [call] = fresh.calls()  # the rota is there now: nothing more is said on stderr
    assert (call["outcome"], call["answered_by"]) == ("answered", "Bryn Bowen")


def test_a_scripts_first_demo_command_still_prints_only_its_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("helpline.clock.now", lambda: NOW)
    fresh = Demo(tmp_path)

    listed = fresh.run("calls", "list", "--json")

    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert "made the demo rota" in listed.stderr


def test_a_demo_last_used_weeks_ago_gets_a_rota_for_the_week_from_today(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.ok("advisers", "leave", "Alex Adams")
    monkeypatch.setattr("helpline.clock.now", lambda: NOW + timedelta(days=20))

    report = demo.play("--accept", "Bryn Bowen")

    assert (report["outcome"], report["answered_by"]) == ("answered", "Bryn Bowen")
    assert not any(ALEX in step["text"] for step in report["steps"])  # who left stays away


def test_a_three_minute_conversation_is_listed_with_its_wait_and_talk(demo: Demo) -> None:
    report = demo.play(
        "--voicemail", "Alex Adams", "--accept", "Bryn Bowen", "--talk-seconds", "180"
    )

    assert (report["outcome"], report["answered_by"], report["talk_s"]) == (
        "answered",
        "Bryn Bowen",
        180,
    )
    assert report["times"] == "simulated"
    pressed = next(s["at_s"] for s in report["steps"] if s["text"] == "presses 1")
    assert report["wait_s"] == pressed > 20  # past Alex's voicemail, which heard the screen
    [call] = demo.calls()
    assert call["sid"] == report["sid"] and call["outcome"] == "answered"
    assert seconds(call, "started_at", "ended_at") > report["wait_s"] + 180
    assert datetime.fromisoformat(call["started_at"]) == NOW


def test_a_caller_who_gives_up_after_30_s_is_listed_as_abandoned_after_30_s(demo: Demo) -> None:
    output = demo.ok("simulate", "call", "--to", "herefordshire", "--hang-up-after", "30")

    assert "[caller] hangs up" in output
    assert output.rstrip().endswith("wait 30 s\noutcome: abandoned")
    [call] = demo.calls()
    assert (call["outcome"], call["status"], call["answered_by"]) == (
        "abandoned",
        "completed",
        None,
    )
    assert seconds(call, "started_at", "ended_at") == 30


def test_a_call_left_in_progress_is_listed_without_an_outcome(demo: Demo) -> None:
    output = demo.ok(
        "simulate", "call", "--to", "herefordshire", "--accept", "Alex Adams", "--in-progress"
    )

    assert "the call is left in progress" in output
    assert output.rstrip().endswith("outcome: none yet, the call is in progress")
    [call] = demo.calls()
    assert (call["outcome"], call["ended_at"], call["answered_by"]) == (None, None, "Alex Adams")


@pytest.mark.parametrize(
    ("step", "outcome"),
    [("greeting", "abandoned"), ("ringing", "abandoned"), ("before-beep", "missed")],
)
def test_a_caller_can_hang_up_at_a_named_step(demo: Demo, step: str, outcome: str) -> None:
    report = demo.play("--hang-up-at", step)

    assert (report["outcome"], report["caller_hung_up"]) == (outcome, True)
    hung_up = next(s["at_s"] for s in report["steps"] if s["text"] == "hangs up")
    assert report["wait_s"] == round(hung_up) or outcome == "missed"
    heard = " ".join(report["heard"])
    assert ("Please hold" in heard) is (step != "greeting")
    assert ("none of our advisers can take your call" in heard) is (step == "before-beep")
    assert not any("hears the beep" in s["text"] for s in report["steps"])


def test_the_time_each_phone_takes_moves_the_wait_on(demo: Demo) -> None:
    both = ("--accept", "Alex Adams", "--accept", "Bryn Bowen")
    usual = demo.play(*both)
    slow = demo.play(*both, "--ring-seconds", "15", "--screen-seconds", "6")

    assert slow["wait_s"] - usual["wait_s"] == (15 - 8) + (6 - 4)
    assert usual["talk_s"] == slow["talk_s"] == 120


def test_a_message_of_45_s_is_kept_as_45_s(demo: Demo) -> None:
    report = demo.play("--message-seconds", "45")

    assert report["outcome"] == "voicemail"
    [callback] = json.loads(demo.ok("callbacks", "list", "--json"))
    [message] = callback["messages"]
    assert message["duration_s"] == 45
    beep = next(s["at_s"] for s in report["steps"] if "hears the beep" in s["text"])
    received = datetime.fromisoformat(message["received_at"])
    assert (received - NOW).total_seconds() == beep + 45


def test_json_for_scripts_has_the_sid_outcome_figures_and_what_was_heard(demo: Demo) -> None:
    report = demo.play("--accept", "Alex Adams", "--accept", "Bryn Bowen")

    assert report["sid"].startswith("CA") and len(report["sid"]) == 34
    assert {"outcome", "status", "wait_s", "talk_s", "started_at", "ended_at"} <= set(report)
    assert report["heard"][0].startswith("Thank you for calling the Herefordshire helpline")
    assert all({"at_s", "who", "text"} == set(step) for step in report["steps"])
    assert report["errors"] == []
    assert (report["caller_hung_up"], report["left_in_progress"]) == (False, False)


def test_hang_up_options_that_contradict_each_other_are_refused(demo: Demo) -> None:
    result = demo.run("simulate", "call", "--hang-up-after", "30", "--in-progress")

    assert result.exit_code != 0
    assert "--hang-up-after and --in-progress cannot be used together" in result.output
    assert demo.calls() == []


# helpline --demo simulate week


def local(call: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(call["started_at"]).astimezone(LONDON)


def in_usual_hours(call: dict[str, Any]) -> bool:
    """Within the offices' usual hours: Monday to Thursday 9 to 5, Friday 9 to 4:30."""
    at = local(call)
    closes = time(16, 30) if at.weekday() == 4 else time(17)
    return at.weekday() < 5 and time(9) <= at.time() < closes


def without_timing(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.endswith("s to play.)"))


def test_simulate_week_fills_the_demo_with_the_past_week_of_both_counties(demo: Demo) -> None:
    output = demo.ok("simulate", "week", "--calls-per-day", "12")

    assert "failed" not in output
    calls = demo.calls()
    week_start = local_instant(date(2026, 11, 25), time(0), LONDON)
    assert calls and all(week_start <= local(c) < week_start + timedelta(days=7) for c in calls)
    assert f"Played {len(calls)} calls from Wednesday 25 November to Tuesday 1 December 2026" in (
        output
    )
    assert {c["office"] for c in calls} == {"herefordshire", "worcestershire"}
    outcomes = {c["outcome"] for c in calls}
    assert {"answered", "answered_by_partner", "voicemail"} <= outcomes and None not in outcomes
    live = [c for c in calls if c["outcome"] in ("answered", "answered_by_partner")]
    assert all(in_usual_hours(c) for c in live)  # out of hours only the answer machine answers
    assert any(c["outcome"] == "voicemail" and not in_usual_hours(c) for c in calls)
    assert any(c["from"] is None for c in calls)  # hidden numbers
    morning = sum(1 for c in calls if 9 <= local(c).hour < 12)
    afternoon = sum(1 for c in calls if 14 <= local(c).hour < 17)
    assert morning > afternoon  # calls peak mid-morning
    for office in ("herefordshire", "worcestershire"):
        answered = sum(1 for c in calls if (c["office"], c["outcome"]) == (office, "answered"))
        column = 0 if office == "herefordshire" else 1
        row = next(line for line in output.splitlines() if line.startswith("answered "))
        assert int(row.split()[1 + column]) == answered
    callbacks = json.loads(demo.ok("callbacks", "list", "--json"))
    assert any(c["status"] == "completed" for c in callbacks)  # advisers called parents back


def test_the_same_seed_plays_the_same_week(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("helpline.clock.now", lambda: NOW)
    one, two = Demo(tmp_path / "one"), Demo(tmp_path / "two")

    first = one.ok("simulate", "week", "--seed", "7", "--calls-per-day", "6")
    second = two.ok("simulate", "week", "--seed", "7", "--calls-per-day", "6")

    assert without_timing(first) == without_timing(second)
    assert one.calls() == two.calls() != []
    other = Demo(tmp_path / "other")
    other.ok("simulate", "week", "--seed", "8", "--calls-per-day", "2")
    assert other.calls() != one.calls()


def test_a_week_with_a_bank_holiday_has_nobody_answering_that_day(demo: Demo) -> None:
    output = demo.ok("simulate", "week", "--from", "2026-08-31", "--calls-per-day", "6")

    assert "bank holiday: Monday 31 August" in output
    calls = demo.calls()
    holiday = [c for c in calls if local(c).date() == date(2026, 8, 31)]
    assert holiday and all(c["outcome"] in ("voicemail", "missed", "abandoned") for c in holiday)
    tuesday = [c for c in calls if local(c).date() == date(2026, 9, 1)]
    assert any(c["outcome"] == "answered" for c in tuesday)


def test_a_week_is_played_once_only_after_it_has_ended_and_only_in_the_demo(
    demo: Demo, tmp_path: Path
) -> None:
    demo.ok("simulate", "week", "--calls-per-day", "3")
    played = len(demo.calls())

    again = demo.run("simulate", "week", "--calls-per-day", "3")
    unfinished = demo.run("simulate", "week", "--from", "2026-11-30")
    real = CliRunner().invoke(
        main, ["simulate", "week"], env={"DATABASE_URL": f"sqlite:///{tmp_path}/real.sqlite3"}
    )

    assert again.exit_code != 0 and "already has" in again.output
    assert unfinished.exit_code != 0 and "has not ended yet" in unfinished.output
    assert real.exit_code != 0 and "helpline --demo simulate week" in real.output
    assert len(demo.calls()) == played


def test_calls_played_one_after_another_follow_each_other_in_time(demo: Demo) -> None:
    # The wall clock stands still here (as it nearly does between two commands), yet the first
    # call ran on for minutes of simulated time: the second starts once the first has ended, so
    # one adviser is never in two conversations at once.
    demo.play("--accept", "Alex Adams", "--talk-seconds", "180")
    demo.play("--accept", "Alex Adams", "--talk-seconds", "180")

    second, first = demo.calls()
    assert first["answered_by"] == second["answered_by"] == "Alex Adams"
    assert datetime.fromisoformat(second["started_at"]) >= datetime.fromisoformat(first["ended_at"])


def test_an_adviser_named_to_answer_after_the_service_stops_ringing_is_warned_of(
    demo: Demo,
) -> None:
    result = demo.run(
        "simulate",
        "call",
        "--to",
        "herefordshire",
        "--json",
        "--accept",
        "Alex Adams",
        "--ring-seconds",
        "30",
    )

    assert result.exit_code == 0
    assert "will not answer" in result.stderr and "ring_seconds = 20" in result.stderr
    assert json.loads(result.stdout)["outcome"] != "answered"
