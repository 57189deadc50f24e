"""The call figures of `helpline stats`, each the worked example of docs/statistics.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from calls.report import recent_calls
from helpline.settings import Settings
from helpline.statistics.figures import collect
from helpline.statistics.report import as_json
from tests.constants import HEREFORD, LONDON, MONDAY, WORCS, london
from tests.factories import adviser, make_settings, played_call, shift

ALEX = "+447700900001"
BRYN = "+447700900002"


def stats(session: Session, settings: Settings, first: date, last: date) -> dict[str, Any]:
    session.flush()
    return as_json(collect(session, settings, first, last))


def at(minute: int, second: int = 0) -> datetime:
    """Monday 30 November 2026, 10:mm:ss in London (GMT)."""
    return london(MONDAY, 10, minute).replace(second=second)


def test_each_outcome_is_the_one_calls_list_gives_and_they_add_up_to_received(
    session: Session, settings: Settings
) -> None:
    adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    played_call(session, settings, "CA1", HEREFORD, at(0), answered_after=10, talk=300)
    played_call(session, settings, "CA2", HEREFORD, at(10), machine_after=60, message=True)
    played_call(session, settings, "CA3", HEREFORD, at(20), machine_after=60)
    played_call(session, settings, "CA4", HEREFORD, at(30), hang_up_after=30)
    played_call(session, settings, "CA5", HEREFORD, at(40))  # still ringing

    figures = stats(session, settings, MONDAY, MONDAY)

    listed = {row["sid"]: row["outcome"] for row in recent_calls(session)}
    assert listed == {
        "CA1": "answered",
        "CA2": "voicemail",
        "CA3": "missed",
        "CA4": "abandoned",
        "CA5": None,
    }
    calls = figures["offices"]["herefordshire"]["calls"]
    assert calls == {
        "received": 5,
        "answered": 1,
        "answered_by_partner": 0,
        "voicemail": 1,
        "callback_requested": 0,
        "missed": 1,
        "abandoned": 1,
        "in_progress": 1,
    }


def test_every_office_appears_with_zeros_and_ratios_are_null_with_nothing_to_measure(
    session: Session, settings: Settings
) -> None:
    figures = stats(session, settings, MONDAY, MONDAY)

    assert set(figures["offices"]) == {"herefordshire", "worcestershire"}
    for office in figures["offices"].values():
        assert office["calls"]["received"] == 0
        assert office["service_level"] is None
        assert office["average_speed_of_answer_s"] is None
        assert office["callbacks"]["created"] == 0
    assert figures["teams"]["worcestershire"]["calls_answered"] == 0
    assert figures["service_level_formula"]["answer_within_s"] == 20
    assert figures["service_level_formula"]["short_abandon_s"] == 5


def test_service_level_leaves_out_short_abandons_and_calls_straight_to_the_machine(
    session: Session, settings: Settings
) -> None:
    adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    # Worcestershire's own team is not on shift: its calls are answered in Herefordshire.
    played_call(session, settings, "CA1", WORCS, at(0), answered_after=15, talk=60)  # within T
    played_call(session, settings, "CA2", WORCS, at(5), answered_after=45, talk=60)  # after T
    played_call(session, settings, "CA3", WORCS, at(10), hang_up_after=3)  # short abandon
    played_call(session, settings, "CA4", WORCS, at(15), hang_up_after=40)  # abandoned
    played_call(session, settings, "CA5", WORCS, at(20), machine_after=150, message=True)
    played_call(session, settings, "CA6", WORCS, at(30), ring=False, machine_after=0)

    office = stats(session, settings, MONDAY, MONDAY)["offices"]["worcestershire"]

    # 1 answered within 20 s / (2 answered + 1 abandoned after 5 s + 1 voicemail after waiting)
    assert office["service_level_calls"] == {"answered_within_t": 1, "counted": 4}
    assert office["service_level"] == 0.25
    assert office["calls"]["answered_by_partner"] == 2
    assert office["average_speed_of_answer_s"] == 30.0  # (15 + 45) / 2


def test_t_and_the_short_abandon_threshold_come_from_the_configuration(
    session: Session, settings: Settings
) -> None:
    from dataclasses import replace

    adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    played_call(session, settings, "CA1", HEREFORD, at(0), answered_after=25, talk=60)
    played_call(session, settings, "CA2", HEREFORD, at(5), hang_up_after=8)
    patient = replace(
        settings, statistics=replace(settings.statistics, answer_within_s=30, short_abandon_s=10)
    )

    office = stats(session, patient, MONDAY, MONDAY)["offices"]["herefordshire"]

    assert office["service_level"] == 1.0
    formula = as_json(collect(session, patient, MONDAY, MONDAY))["service_level_formula"]
    assert (formula["answer_within_s"], formula["short_abandon_s"]) == (30, 10)


def test_a_call_counts_on_its_local_start_date_across_the_clock_change(
    session: Session, settings: Settings
) -> None:
    saturday, sunday = date(2026, 10, 24), date(2026, 10, 25)
    # 23:30 on Saturday 24 October in London is 22:30 UTC (BST); 00:30 on Sunday, the day the
    # clocks go back, is 23:30 UTC on Saturday; 23:30 on Sunday is 23:30 UTC (GMT).
    late_saturday = datetime.combine(saturday, time(23, 30), tzinfo=LONDON)
    early_sunday = datetime.combine(sunday, time(0, 30), tzinfo=LONDON)
    late_sunday = datetime.combine(sunday, time(23, 30), tzinfo=LONDON)
    assert early_sunday.astimezone(UTC).date() == saturday
    for n, start in enumerate((late_saturday, early_sunday, late_sunday)):
        played_call(session, settings, f"CA{n}", HEREFORD, start.astimezone(UTC), ring=False)

    def received(first: date, last: date) -> int:
        return int(
            stats(session, settings, first, last)["offices"]["herefordshire"]["calls"]["received"]
        )

    assert received(saturday, saturday) == 1
    assert received(sunday, sunday) == 2
    assert received(saturday, sunday) == 3


def test_hour_of_week_is_local_with_monday_as_0(session: Session, settings: Settings) -> None:
    adviser(session, "Alex Adams", ALEX, "herefordshire", MONDAY)
    played_call(session, settings, "CA1", HEREFORD, at(0), answered_after=10, talk=200)
    played_call(session, settings, "CA2", HEREFORD, at(50), answered_after=10, talk=100)
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=LONDON)  # a Wednesday, 08:30 UTC
    played_call(session, settings, "CA3", WORCS, summer.astimezone(UTC), ring=False)

    figures = stats(session, settings, date(2026, 7, 1), MONDAY)

    assert figures["hour_of_week"] == [
        {"office": "herefordshire", "weekday": 0, "hour": 10, "received": 2, "answered": 2},
        {"office": "worcestershire", "weekday": 2, "hour": 9, "received": 1, "answered": 0},
    ]
    assert figures["team_hours"] == [
        {
            "team": "herefordshire",
            "weekday": 0,
            "hour": 10,
            "calls_answered": 2,
            "talk_seconds": 300,
        }
    ]


def test_talk_counts_for_calls_that_started_in_the_range_whenever_the_adviser_was_rung(
    session: Session,
) -> None:
    settings = make_settings(HELPLINE_DEMO="1")  # both offices open all day, every day
    alex = adviser(
        session, "Alex Adams", ALEX, "herefordshire", MONDAY, start=time(0), end=time(23, 59)
    )
    shift(
        session, alex, "herefordshire", MONDAY - timedelta(days=1), start=time(0), end=time(23, 59)
    )
    # Sunday 23:59:30: the call is Sunday's, though Alex's phone rang after midnight.
    late = london(MONDAY - timedelta(days=1), 23, 59).replace(second=30)
    call = played_call(session, settings, "CA1", HEREFORD, late, ring=False)
    from calls import ringing
    from calls import service as calls_service

    rung = ringing.ring_next(session, settings, call, late + timedelta(seconds=40))
    assert rung is not None
    assert ringing.leg_accepted(session, rung.leg, late + timedelta(seconds=45))
    calls_service.record_status(
        session,
        settings,
        calls_service.StatusReport("CA1", "completed"),
        late + timedelta(seconds=145),
    )

    sunday = stats(session, settings, MONDAY - timedelta(days=1), MONDAY - timedelta(days=1))
    monday = stats(session, settings, MONDAY, MONDAY)

    assert sunday["teams"]["herefordshire"]["talk_seconds"] == 100
    assert sunday["teams"]["herefordshire"]["calls_answered"] == 1
    assert monday["teams"]["herefordshire"]["talk_seconds"] == 0
