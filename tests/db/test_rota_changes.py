"""Changing the rota after an import: clearing an adviser's day, and an adviser leaving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import attempts, common, filing, staff_actions
from callbacks.job_results import Assigned, JobResult, Returned
from callbacks.jobs import assign_callbacks, return_to_pool
from callbacks.models import Callback, CallbackEvent
from callbacks.report import list_callbacks
from helpline.settings import Settings
from helpline.simulation.simulator import CallPlayer, FlaskTransport, Script
from rota import service as rota
from rota.importer import RotaImportError, import_rota
from rota.models import Adviser, Shift
from tests.constants import (
    ANN,
    BASE_URL,
    BEN,
    HEREFORD,
    MONDAY,
    OTHER_PARENT,
    PARENT,
    TOKEN,
    TUESDAY,
    WEDNESDAY,
    parent,
)
from tests.factories import Clock, adviser, shift

FRIDAY_BEFORE = date(2026, 11, 27)


def shifts_of(session: Session, adviser_id: int) -> list[tuple[date, time, time]]:
    return [
        (s.day, s.start, s.end)
        for s in session.scalars(
            select(Shift).where(Shift.adviser_id == adviser_id).order_by(Shift.starts_at)
        )
    ]


def on_shift_now(session: Session, now: datetime) -> list[str]:
    return [a.name for a in rota.on_shift(session, now)]


def listed(session: Session, now: datetime, callback_id: int) -> dict[str, Any]:
    session.expire_all()
    return next(c for c in list_callbacks(session, now) if c["id"] == callback_id)


# helpline rota remove ADVISER DATE


def test_removing_a_day_clears_that_days_shifts_and_no_others(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY, time(9), time(13))
    shift(session, alex, "worcestershire", TUESDAY, time(13), time(17))
    shift(session, alex, "herefordshire", WEDNESDAY)

    stopped = rota.remove_day(session, settings, alex, TUESDAY, clock())

    assert stopped == rota.Stopped(cut_short=0, removed=2)
    assert shifts_of(session, alex.id) == [(WEDNESDAY, time(9), time(17))]
    assert rota.remove_day(session, settings, alex, TUESDAY, clock()) == rota.Stopped(0, 0)


def test_removing_today_ends_the_shift_in_progress_now_and_its_callbacks_go_back(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    now = clock()  # Monday 10:00
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", now)
    staff_actions.assign(
        session, callback, alex, "scheduler", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    )

    stopped = rota.remove_day(session, settings, alex, MONDAY, now)

    assert stopped == rota.Stopped(cut_short=1, removed=0)
    # The hour worked stays on the rota (its work keeps its team); from now Alex is off shift.
    assert shifts_of(session, alex.id) == [(MONDAY, time(9), time(10))]
    assert on_shift_now(session, now) == []
    assert run(return_to_pool, now) == Returned(returned=1)
    assert listed(session, now, callback.id)["assigned_to"] is None


# helpline advisers leave ADVISER


def test_an_adviser_who_leaves_stops_now_and_hands_back_their_open_callbacks(
    session: Session, settings: Settings, clock: Clock
) -> None:
    now = clock()  # Monday 10:00, in Alex's shift
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", FRIDAY_BEFORE)
    shift(session, alex, "herefordshire", MONDAY)
    shift(session, alex, "worcestershire", TUESDAY)
    shift(session, alex, "herefordshire", WEDNESDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    open_one, _ = filing.callback_for(session, settings, PARENT, "herefordshire", now)
    staff_actions.assign(session, open_one, alex, "scheduler", now)
    done, _ = filing.callback_for(session, settings, OTHER_PARENT, "herefordshire", now)
    staff_actions.assign(session, done, alex, "scheduler", now)
    attempts.record_outcome(session, settings, done, "spoke", "Alex Adams", now)

    stopped = rota.leave(session, settings, alex, now)
    handed_back = staff_actions.hand_back(session, alex, "Admin", now, reason="adviser left")

    assert stopped == rota.Stopped(cut_short=1, removed=2)
    # Past work stays on the rota for the statistics; nothing is left to come.
    assert shifts_of(session, alex.id) == [
        (FRIDAY_BEFORE, time(9), time(17)),
        (MONDAY, time(9), time(10)),
    ]
    assert on_shift_now(session, now) == ["Ben Birch"]
    assert handed_back == 1
    shown = listed(session, now, open_one.id)
    assert (shown["status"], shown["assigned_to"]) == ("open", None)
    assert listed(session, now, done.id)["assigned_to"] == "Alex Adams"  # closed: left alone
    [returned] = session.scalars(
        select(CallbackEvent).where(
            CallbackEvent.callback_id == open_one.id, CallbackEvent.kind == "returned-to-pool"
        )
    ).all()
    assert (returned.actor, returned.detail["reason"]) == ("Admin", "adviser left")
    assert session.get_one(Callback, done.id).status == "completed"


def test_an_adviser_who_has_left_is_not_rung_for_calls(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    rota.leave(session, settings, alex, clock())
    session.commit()
    clock.advance(minutes=5)

    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(
        Script(caller=PARENT, to=HEREFORD, advisers={ANN: "accept", BEN: "accept"})
    )

    assert result.errors == []
    rung = [s.text.split()[2] for s in result.steps if s.text.startswith("rings adviser")]
    assert rung == [BEN]


def test_leaving_twice_changes_nothing_more(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)

    assert rota.leave(session, settings, alex, clock()) == rota.Stopped(cut_short=0, removed=1)
    assert rota.left_on(settings, alex) == MONDAY
    clock.advance(days=1)
    assert rota.leave(session, settings, alex, clock()) == rota.Stopped(cut_short=0, removed=0)
    assert staff_actions.hand_back(session, alex, "Admin", clock(), reason="adviser left") == 0
    assert rota.left_on(settings, alex) == MONDAY  # the day they first left stands


# A leaver and later rota imports

HEADER = "name,phone,office,date,start,end,duty_officer"


def rota_csv(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def test_a_reexported_rota_that_still_lists_a_leaver_is_refused_whole(
    session: Session, settings: Settings, clock: Clock
) -> None:
    now = clock()  # Monday 10:00, in Alex's shift
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)
    rota.leave(session, settings, alex, now)
    reexported = rota_csv(
        f"Alex Adams,{ANN},herefordshire,{FRIDAY_BEFORE},09:00,17:00,no",
        f"Ben Birch,{BEN},herefordshire,{TUESDAY},09:00,17:00,no",
        f"alex adams,{ANN},herefordshire,{MONDAY},09:00,17:00,no",
        f"Alex Adams,{ANN},worcestershire,{TUESDAY},09:00,17:00,no",
    )

    with pytest.raises(RotaImportError) as caught:
        import_rota(session, settings, reexported, clock.advance(hours=1))

    # Only the rows on or after the day Alex left are refused, each by its line.
    assert len(caught.value.errors) == 2
    today, tomorrow = caught.value.errors
    assert today.startswith(f"line 4, name: Alex Adams left on {MONDAY};")
    assert tomorrow.startswith(f"line 5, name: Alex Adams left on {MONDAY};")
    assert 'helpline advisers return "Alex Adams"' in today
    # Nothing from the file was imported: not Ben, not Alex's whole Monday back.
    assert session.scalars(select(Adviser.name)).all() == ["Alex Adams"]
    assert shifts_of(session, alex.id) == [(MONDAY, time(9), time(10))]
    assert on_shift_now(session, clock()) == []


def test_a_rota_naming_a_leaver_only_before_they_left_is_imported(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)
    rota.leave(session, settings, alex, clock())
    history = rota_csv(
        f"Alex Adams,{ANN},herefordshire,{FRIDAY_BEFORE},09:00,17:00,no",
        f"Ben Birch,{BEN},herefordshire,{TUESDAY},09:00,17:00,no",
    )

    result = import_rota(session, settings, history, clock())

    assert (result.advisers_added, result.shifts_added) == (1, 2)
    assert shifts_of(session, alex.id) == [(FRIDAY_BEFORE, time(9), time(17))]
    assert rota.left_on(settings, alex) == MONDAY


def test_an_adviser_brought_back_can_be_given_shifts_again(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", FRIDAY_BEFORE)
    rota.leave(session, settings, alex, clock())

    assert rota.bring_back(session, settings, alex, clock()) == MONDAY
    assert rota.bring_back(session, settings, alex, clock()) is None  # not a leaver any more

    import_rota(
        session,
        settings,
        rota_csv(f"Alex Adams,{ANN},herefordshire,{TUESDAY},09:00,17:00,no"),
        clock(),
    )
    assert on_shift_now(session, datetime(2026, 12, 1, 12, tzinfo=UTC)) == ["Alex Adams"]


def test_a_leaver_with_a_shift_somehow_left_is_neither_rung_nor_given_work(
    app: Flask,
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
) -> None:
    now = clock()  # Monday 10:00
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)
    rota.leave(session, settings, alex, now)
    # A shift written straight into the database after Alex left, past every check.
    shift(session, alex, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", now)
    other, _ = filing.callback_for(session, settings, OTHER_PARENT, "herefordshire", now)
    session.commit()

    assert on_shift_now(session, now) == ["Ben Birch"]
    assert run(assign_callbacks, now) == Assigned(waiting=2, assigned=2)
    assert {listed(session, now, c.id)["assigned_to"] for c in (callback, other)} == {"Ben Birch"}
    with pytest.raises(common.CallbackError, match="Alex Adams has left"):
        staff_actions.assign(session, callback, alex, "Duty Officer", now)
    with pytest.raises(common.CallbackError, match="Alex Adams has left"):
        attempts.start_attempt(session, other, alex, "Duty Officer", now)
    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(
        Script(caller=parent(25), to=HEREFORD, advisers={ANN: "accept", BEN: "accept"})
    )
    rung = [s.text.split()[2] for s in result.steps if s.text.startswith("rings adviser")]
    assert rung == [BEN]


def test_the_demo_starts_again_after_one_of_its_advisers_left(
    session: Session, clock: Clock
) -> None:
    from helpline.demo import seed
    from tests.factories import make_settings

    demo = make_settings(HELPLINE_DEMO="1")
    seed(session, demo, clock())
    alex = rota.find_adviser(session, "Alex Adams")
    rota.leave(session, demo, alex, clock())

    # `helpline --demo serve` seeds its rota again each time it starts.
    assert "Demo rota:" in seed(session, demo, clock.advance(days=1))

    assert "Alex Adams" not in on_shift_now(session, clock())
    assert "Bryn Bowen" in on_shift_now(session, clock())
