"""Callbacks, teams and advisers in `helpline stats`: the worked examples of docs/statistics.md."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from callbacks import attempts, filing, staff_actions
from callbacks.models import Callback
from helpline.settings import Settings
from helpline.statistics.figures import collect
from helpline.statistics.report import as_json
from rota.models import Adviser
from tests.constants import HEREFORD, MONDAY, TUESDAY, WEDNESDAY, WORCS, london, parent
from tests.factories import adviser, played_call, shift

ALEX, BRYN = "+447700900001", "+447700900002"


def stats(session: Session, settings: Settings, first: date, last: date) -> dict[str, Any]:
    session.flush()
    return as_json(collect(session, settings, first, last))


def call_back(
    session: Session,
    settings: Settings,
    callback: Callback,
    who: Adviser,
    at: datetime,
    outcome: str,
    parent_seconds: int = 0,
) -> None:
    """One attempt by `who` at `at`, placed at Twilio, with the parent on the line for
    `parent_seconds`, then its outcome in the adviser's words."""
    attempt = attempts.start_attempt(session, callback, who, who.name, at)
    attempts.placed(attempt, None)  # as calling_back.call_back marks it once Twilio has it
    attempt.parent_seconds = parent_seconds
    attempts.record_outcome(session, settings, callback, outcome, who.name, at)


def test_callbacks_created_in_the_range_count_by_their_status_now(
    session: Session, settings: Settings
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    made = london(MONDAY, 10)
    backs = [
        filing.callback_for(session, settings, parent(n), "herefordshire", made)[0]
        for n in range(5)
    ]
    call_back(session, settings, backs[0], alex, london(MONDAY, 11), "spoke", 240)
    call_back(session, settings, backs[1], alex, london(MONDAY, 11, 10), "wrong-number")
    staff_actions.close(session, backs[2], "duplicate", "Alex Adams", london(MONDAY, 11, 20))
    call_back(session, settings, backs[3], alex, london(MONDAY, 11, 30), "no-answer")
    # backs[4] is untouched; a callback made on Tuesday is outside the range.
    filing.callback_for(session, settings, parent(9), "herefordshire", london(TUESDAY, 10))

    found = stats(session, settings, MONDAY, MONDAY)["offices"]["herefordshire"]["callbacks"]

    assert found["created"] == 5
    assert (found["completed"], found["unreachable"], found["cancelled"], found["open"]) == (
        1,
        1,
        1,
        2,
    )
    assert found["first_attempt_within_promise"] == 3
    assert found["oldest_open_created_at"] == made.isoformat()


def test_a_first_attempt_after_the_deadline_is_not_within_the_promise(
    session: Session, settings: Settings
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    shift(session, alex, "herefordshire", date(2026, 12, 3))
    callback, _ = filing.callback_for(
        session, settings, parent(1), "herefordshire", london(MONDAY, 10)
    )
    assert callback.due_at == london(WEDNESDAY, 10)  # two working days

    call_back(session, settings, callback, alex, callback.due_at + timedelta(minutes=1), "spoke")

    found = stats(session, settings, MONDAY, MONDAY)["offices"]["herefordshire"]["callbacks"]
    assert (found["completed"], found["first_attempt_within_promise"]) == (1, 0)


def test_help_given_counts_work_for_the_other_countys_callers_by_the_advisers_team(
    session: Session, settings: Settings
) -> None:
    alex = adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    # Worcestershire's callers, with Worcestershire's own team off: Alex answers for them.
    played_call(session, settings, "CA1", WORCS, london(MONDAY, 10), answered_after=10, talk=300)
    played_call(
        session, settings, "CA2", HEREFORD, london(MONDAY, 10, 30), answered_after=5, talk=100
    )
    worcs_back, _ = filing.callback_for(
        session, settings, parent(1), "worcestershire", london(MONDAY, 9)
    )
    call_back(session, settings, worcs_back, alex, london(MONDAY, 14), "spoke", 120)

    figures = stats(session, settings, MONDAY, MONDAY)

    assert figures["teams"]["herefordshire"] == {
        "calls_answered": 2,
        "calls_answered_for_partner": 1,
        "callbacks_completed": 1,
        "callbacks_completed_for_partner": 1,
        "talk_seconds": 520,  # 300 + 100 on calls, 120 with the parent on the callback
    }
    assert figures["teams"]["worcestershire"]["calls_answered"] == 0
    assert figures["advisers"] == [
        {
            "name": "Alex Adams",
            "team": "herefordshire",
            "calls_answered": 2,
            "talk_seconds": 520,
            "callbacks_completed": 1,
        }
    ]


def test_work_off_shift_counts_for_the_team_of_the_advisers_latest_shift(
    session: Session, settings: Settings
) -> None:
    bryn = adviser(session, "Bryn Bowen", BRYN, "herefordshire", MONDAY)
    shift(session, bryn, "worcestershire", TUESDAY)
    callback, _ = filing.callback_for(
        session, settings, parent(1), "herefordshire", london(MONDAY, 9)
    )
    # Tuesday evening, after Bryn's Worcestershire shift has ended.
    evening = datetime.combine(TUESDAY, time(19), tzinfo=london(TUESDAY, 0).tzinfo)
    call_back(session, settings, callback, bryn, evening, "spoke", 60)

    figures = stats(session, settings, MONDAY, TUESDAY)

    assert figures["teams"]["worcestershire"]["callbacks_completed_for_partner"] == 1
    assert figures["teams"]["herefordshire"]["callbacks_completed"] == 0
    rows = {(a["name"], a["team"]): a for a in figures["advisers"]}
    assert rows[("Bryn Bowen", "worcestershire")]["callbacks_completed"] == 1
    assert rows[("Bryn Bowen", "herefordshire")]["callbacks_completed"] == 0  # on shift, idle


def test_the_office_option_keeps_one_countys_callers_team_and_advisers(
    session: Session, settings: Settings
) -> None:
    adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    played_call(session, settings, "CA1", WORCS, london(MONDAY, 10), answered_after=10, talk=60)

    data = as_json(collect(session, settings, MONDAY, MONDAY), office="worcestershire")

    assert list(data["offices"]) == ["worcestershire"]
    assert list(data["teams"]) == ["worcestershire"]
    assert data["advisers"] == []
    assert data["offices"]["worcestershire"]["calls"]["answered_by_partner"] == 1
