"""Staff actions from the pages: each names the version the person saw; when someone else
changed the callback meanwhile, nothing is written and the person is told what changed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks import desk, filing, staff_actions
from callbacks.calling_back import AttemptWebhooks
from callbacks.common import CallbackError
from callbacks.models import Callback, Note
from callbacks.page import NotYours, callback_page
from helpline.runtime import Runtime
from helpline.settings import Settings
from rota import service as rota
from tests.constants import ANN, BEN, MONDAY, TUESDAY, parent
from tests.db.jobs.helpers import delete_everything
from tests.factories import Clock, adviser


def open_callback(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with sessions() as setup:
        callback, _ = filing.callback_for(setup, settings, parent(1), "herefordshire", now)
        setup.commit()
        return callback.id


def test_an_action_on_the_version_seen_takes_effect_and_moves_the_version_on(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())
    seen = callback.version

    done = desk.assign(
        session, settings, callback.id, ann.id, "Dana Duty", clock(), expected_version=seen
    )

    assert (done.status, done.assigned_to, done.warning) == ("assigned", "Ann Ash", None)
    assert done.version > seen
    closed = desk.close(
        session, callback.id, "rang again", "Dana Duty", clock(), expected_version=done.version
    )
    assert closed.status == "cancelled" and closed.version > done.version


def test_a_second_person_acting_on_an_old_version_is_told_what_changed_and_changes_nothing(
    sessions: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    with sessions() as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        ben = adviser(setup, "Ben Birch", BEN, "herefordshire", MONDAY)
        setup.commit()
        ann_id, ben_id = ann.id, ben.id
    callback_id = open_callback(sessions, settings, clock())
    with sessions() as look:
        seen = look.get_one(Callback, callback_id).version  # both pages show this version

    with sessions() as first:
        desk.assign(
            first, settings, callback_id, ann_id, "Dana Duty", clock(), expected_version=seen
        )
        first.commit()
    with sessions() as second, pytest.raises(desk.Changed) as told:
        desk.close(second, callback_id, "duplicate", "Eve Evans", clock(), expected_version=seen)
    with sessions() as third, pytest.raises(desk.Changed):
        desk.assign(
            third, settings, callback_id, ben_id, "Eve Evans", clock(), expected_version=seen
        )

    current = told.value.current
    assert (current.status, current.assigned_to, current.last_change) == (
        "assigned",
        "Ann Ash",
        "assigned",
    )
    assert current.last_change_by == "Dana Duty"
    assert current.version > seen and told.value.expected_version == seen
    assert "now assigned with Ann Ash" in str(told.value)
    with sessions() as check:
        kept = check.get_one(Callback, callback_id)
        assert (kept.status, kept.assigned_to_id, kept.close_reason) == ("assigned", ann_id, None)


def test_two_advisers_taking_the_same_callback_the_first_wins(
    sessions: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    with sessions() as setup:
        ann_id = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY).id
        ben_id = adviser(setup, "Ben Birch", BEN, "herefordshire", MONDAY).id
        setup.commit()
    callback_id = open_callback(sessions, settings, clock())

    with sessions() as first:
        desk.take(first, settings, callback_id, ann_id, "Ann Ash", clock())
        first.commit()
    # Ben's page had not been refreshed: he asks to take it without knowing Ann has.
    with sessions() as second, pytest.raises(desk.Changed, match="already been taken") as told:
        desk.take(second, settings, callback_id, ben_id, "Ben Birch", clock())

    assert told.value.current.assigned_to == "Ann Ash"
    with sessions() as check:
        assert check.get_one(Callback, callback_id).assigned_to_id == ann_id


def test_assigning_someone_off_shift_is_done_with_a_warning(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", TUESDAY, time(9), time(13))
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())

    done = desk.assign(
        session, settings, callback.id, ann.id, "Dana Duty", clock(), expected_version=None
    )

    assert done.assigned_to == "Ann Ash"
    assert done.warning is not None
    assert "not on shift now" in done.warning and "Tuesday 1 December 13:00" in done.warning


def test_assigning_someone_away_says_so(session: Session, settings: Settings, clock: Clock) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    rota.set_away(session, ann, True)
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())

    done = desk.assign(
        session, settings, callback.id, ann.id, "Dana Duty", clock(), expected_version=None
    )

    assert done.warning is not None and "away" in done.warning


def test_an_outcome_on_an_old_version_is_refused_and_a_current_one_recorded_with_its_note(
    session: Session, settings: Settings, clock: Clock
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())
    old = callback.version
    done = desk.take(session, settings, callback.id, ann.id, "Ann Ash", clock())

    with pytest.raises(desk.Changed):
        desk.record_outcome(
            session, settings, callback.id, "spoke", "Ann Ash", clock(), expected_version=old
        )
    finished = desk.record_outcome(
        session,
        settings,
        callback.id,
        "spoke",
        "Ann Ash",
        clock(),
        expected_version=done.version,
        note="  Advised on the EHC needs assessment.  ",
        author_account_id=7,
    )

    assert finished.status == "completed"
    (note,) = session.scalars(select(Note).where(Note.callback_id == callback.id)).all()
    assert (note.author, note.author_account_id, note.text) == (
        "Ann Ash",
        7,
        "Advised on the EHC needs assessment.",
    )


def test_notes_never_conflict_and_need_some_text(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback, _ = filing.callback_for(session, settings, parent(1), "herefordshire", clock())
    desk.close(session, callback.id, "duplicate", "Dana Duty", clock(), expected_version=None)

    note = desk.add_note(session, callback.id, "Dana Duty", "Same parent as #12.", clock())

    assert (note.author, note.author_account_id, note.text) == (
        "Dana Duty",
        None,
        "Same parent as #12.",
    )
    with pytest.raises(CallbackError, match="needs some text"):
        desk.add_note(session, callback.id, "Dana Duty", "   ", clock())
    with pytest.raises(CallbackError, match="no callback"):
        desk.add_note(session, callback.id + 1000, "Dana Duty", "hello", clock())


def test_two_advisers_taking_at_the_same_moment_on_postgresql_one_wins(
    engine: Engine, settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers, so the two cannot overlap there")
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    try:
        with Session(engine) as setup:
            ann_id = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY).id
            ben_id = adviser(setup, "Ben Birch", BEN, "herefordshire", MONDAY).id
            callback, _ = filing.callback_for(setup, settings, parent(1), "herefordshire", now)
            setup.commit()
            callback_id, seen = callback.id, callback.version

        first_holds_lock = threading.Event()
        errors: list[BaseException] = []
        told: list[desk.Changed] = []

        def ben_takes() -> None:
            first_holds_lock.wait(10)
            try:
                with Session(engine) as session:
                    desk.take(
                        session,
                        settings,
                        callback_id,
                        ben_id,
                        "Ben Birch",
                        now,
                        expected_version=seen,
                    )
                    session.commit()
            except desk.Changed as exc:
                told.append(exc)
            except BaseException as exc:
                errors.append(exc)

        ben = threading.Thread(target=ben_takes)
        ben.start()
        with Session(engine) as ann_session:
            desk.take(
                ann_session, settings, callback_id, ann_id, "Ann Ash", now, expected_version=seen
            )
            first_holds_lock.set()
            ben.join(timeout=0.5)
            assert ben.is_alive(), "Ben's action should wait for Ann's transaction"
            ann_session.commit()
        ben.join(timeout=10)

        assert errors == []
        assert len(told) == 1
        assert told[0].current.assigned_to == "Ann Ash"
        with Session(engine) as check:
            assert check.get_one(Callback, callback_id).assigned_to_id == ann_id
    finally:
        delete_everything(engine)


def urls(base: str, attempt_id: int) -> AttemptWebhooks:
    return AttemptWebhooks(f"{base}/answered/{attempt_id}", f"{base}/status/{attempt_id}")


def test_an_adviser_works_only_their_own_callbacks(
    sessions: sessionmaker[Session], runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    with sessions() as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        ben = adviser(setup, "Ben Birch", BEN, "herefordshire", MONDAY)
        callback, _ = filing.callback_for(setup, settings, parent(1), "herefordshire", clock())
        staff_actions.assign(setup, callback, ann, "Dana Duty", clock())
        setup.commit()
        ann_id, ben_id, callback_id = ann.id, ben.id, callback.id

    with sessions() as session:
        with pytest.raises(NotYours):
            desk.add_note(session, callback_id, "Ben Birch", "hello", clock(), as_adviser=ben_id)
        with pytest.raises(NotYours):
            desk.record_outcome(
                session,
                settings,
                callback_id,
                "spoke",
                "Ben Birch",
                clock(),
                expected_version=None,
                as_adviser=ben_id,
            )
    with pytest.raises(NotYours):
        desk.call_back(runtime, callback_id, "Ben Birch", ben_id, urls=urls, may_see_all=False)

    mine = desk.call_back(runtime, callback_id, "Ann Ash", ann_id, urls=urls, may_see_all=False)

    assert not mine.placed  # no Twilio credentials in the tests: logged, kept for its outcome
    with sessions() as check:
        page = callback_page(
            check, settings, callback_id, clock(), adviser_id=ann_id, may_see_all=False
        )
        assert page.row.awaiting_outcome
        assert page.history[-1].text == (
            "Call-back attempt not placed: no Twilio credentials are configured"
        )


def test_a_call_back_asked_for_just_before_a_reassignment_does_not_undo_it(
    sessions: sessionmaker[Session], runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    from callbacks import calling_back

    with sessions() as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        ben = adviser(setup, "Ben Birch", BEN, "herefordshire", MONDAY)
        callback, _ = filing.callback_for(setup, settings, parent(1), "herefordshire", clock())
        staff_actions.assign(setup, callback, ann, "Dana Duty", clock())
        setup.commit()
        ann_id, ben_id, callback_id = ann.id, ben.id, callback.id
    # Ann's page checked that the callback was hers; the duty officer then gives it to Ben.
    with sessions() as duty:
        desk.assign(
            duty, settings, callback_id, ben_id, "Dana Duty", clock(), expected_version=None
        )
        duty.commit()

    with pytest.raises(CallbackError, match="no longer yours"):
        calling_back.call_back(
            runtime, callback_id, "Ann Ash", "Ann Ash", urls=urls, only_if_assigned_to=ann_id
        )

    with sessions() as check:
        still = check.get_one(Callback, callback_id)
        assert still.assigned_to_id == ben_id and not still.attempts
