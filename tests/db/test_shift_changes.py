"""Moving and removing one shift, and closing an office from a later time."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota import service
from rota.models import Shift
from rota.shift_changes import Placing, ShiftError, move_shift, remove_shift
from tests.constants import ANN, BEN, MONDAY, TUESDAY, WEDNESDAY, london
from tests.factories import Clock, adviser


def test_a_duty_officers_shift_cannot_give_a_date_a_second_duty_officer(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)
    ben = adviser(session, "Ben Birch", BEN, "worcestershire", WEDNESDAY)
    ann.shifts[0].duty_officer = ben.shifts[0].duty_officer = True

    with pytest.raises(ShiftError, match="already has a duty officer \\(Ben Birch\\)") as err:
        move_shift(
            session,
            settings,
            ann.shifts[0],
            Placing(WEDNESDAY, time(9), time(12), "herefordshire"),
            clock(),
        )

    assert err.value.field == "day"
    assert ann.shifts[0].day == TUESDAY


def test_a_shift_started_stays_and_a_leaver_gets_no_moved_shift(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)  # in progress at 10:00
    ben = adviser(session, "Ben Birch", BEN, "worcestershire", WEDNESDAY)
    ben.left_at = london(TUESDAY, 17)
    later = Placing(WEDNESDAY, time(9), time(12), "herefordshire")

    with pytest.raises(ShiftError, match="already started"):
        move_shift(session, settings, ann.shifts[0], later, clock())
    with pytest.raises(ShiftError, match="left on 2026-12-01"):
        move_shift(session, settings, ben.shifts[0], later, clock())


def test_a_moved_shift_keeps_its_instants_in_step_with_its_local_times(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY)
    moved = ann.shifts[0]

    was = move_shift(
        session, settings, moved, Placing(WEDNESDAY, time(13), time(16), "worcestershire"), clock()
    )

    assert was == Placing(TUESDAY, time(9), time(17), "herefordshire")
    assert service.shift_at(session, ann.id, london(WEDNESDAY, 15)) is moved
    assert service.shift_at(session, ann.id, london(TUESDAY, 10)) is None


def test_removing_a_shift_already_worked_keeps_it(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY - timedelta(days=1))

    stopped = remove_shift(session, settings, ann.shifts[0], clock())

    assert stopped == service.Stopped(0, 0, 1)
    assert session.get(Shift, ann.shifts[0].id) is not None


def test_a_closure_from_a_later_time_starts_then_and_one_from_the_past_starts_now(
    session: Session, settings: Settings, clock: Clock
) -> None:
    later = service.close_office(
        session, settings, "herefordshire", clock(), london(WEDNESDAY, 9), "", london(TUESDAY, 9)
    )
    earlier = service.close_office(
        session, settings, "worcestershire", clock(), None, "", london(MONDAY, 8)
    )

    assert (later.starts_at, later.ends_at) == (london(TUESDAY, 9), london(WEDNESDAY, 9))
    assert earlier.starts_at == clock()
    with pytest.raises(ValueError, match="end after it starts"):
        service.close_office(
            session, settings, "herefordshire", clock(), london(TUESDAY, 9), "", london(TUESDAY, 10)
        )
