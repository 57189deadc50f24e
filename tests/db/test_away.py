"""An adviser who sets themself away keeps their callbacks but is given no new ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from callbacks import filing, staff_actions
from callbacks.job_results import Assigned, JobResult
from callbacks.jobs import assign_callbacks, return_to_pool
from helpline.settings import Settings
from rota import service as rota
from tests.constants import ANN, BEN, MONDAY, parent
from tests.db.jobs.helpers import holder
from tests.factories import Clock, adviser


def test_an_away_adviser_gets_no_new_callback_and_a_colleague_does(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    assert rota.set_away(session, ann, True) is True
    callbacks = [
        filing.callback_for(session, settings, parent(n), "herefordshire", clock())[0]
        for n in range(3)
    ]

    assert run(assign_callbacks, clock()) == Assigned(waiting=3, assigned=3)

    assert {holder(session, c) for c in callbacks} == {"Ben Birch"}


def test_nobody_but_an_away_adviser_on_shift_leaves_the_callback_in_the_pool(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    rota.set_away(session, ann, True)
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())

    assert run(assign_callbacks, clock()) == Assigned(waiting=1, assigned=0)
    assert holder(session, callback) is None

    assert rota.set_away(session, ann, False) is True
    assert rota.set_away(session, ann, False) is False
    run(assign_callbacks, clock() + timedelta(minutes=1))
    assert holder(session, callback) == "Ann Ash"


def test_going_away_keeps_the_callbacks_already_held(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())
    staff_actions.assign(session, callback, ann, "Dana Duty", clock())
    rota.set_away(session, ann, True)

    run(return_to_pool, clock() + timedelta(minutes=5))

    assert holder(session, callback) == "Ann Ash"
