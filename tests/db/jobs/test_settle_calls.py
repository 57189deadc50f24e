"""The settle-calls job: a call or adviser leg whose end never arrived is settled, from Twilio's
answer when it can give one, rather than keeping an adviser busy for hours."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

import helpline.migrations.models  # noqa: F401 - every table in Base.metadata for the clean-up
from callbacks.job_results import SettledCalls
from callbacks.jobs import JOBS, JobContext
from callbacks.models import Callback
from calls.models import Call, CallLeg
from helpline.app import create_app, make_runtime
from helpline.db import session_factory
from helpline.dialer import CallProgress, Dialer, LoggingDialer
from helpline.scheduler import run_job
from helpline.settings import Settings
from tests.constants import ACCOUNT, ANN, API, HEREFORD, MONDAY, OTHER_PARENT, PARENT, TOKEN
from tests.db.jobs.helpers import twilio_call
from tests.factories import Clock, adviser, signed_post
from webhooks.twilio_dialer import TwilioDialer

SID = "CA" + "5" * 32
LEG_SID = "CA" + "7" * 32


def post(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    response = signed_post(client, path, params)
    assert response.status_code == 200
    return response


def answered_call(client: FlaskClient, session: Session) -> int:
    """A call rings Ann, who presses 1; nothing more is ever heard of it. Her leg's id."""
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    leg = session.scalars(select(CallLeg)).one().id
    session.commit()  # on SQLite a reading session holds the write lock until it ends
    params = {"CallSid": LEG_SID, "ParentCallSid": SID}
    post(client, f"/voice/screen?leg={leg}", params)
    post(client, f"/voice/screen-answer?leg={leg}", {**params, "Digits": "1"})
    return leg


@pytest.fixture
def run(
    sessions: sessionmaker[Session], session: Session, settings: Settings
) -> Callable[..., SettledCalls]:
    """Run the job in a session of its own, as the scheduler does."""

    def run_once(
        now: datetime, dialer: Dialer | None = None, with_settings: Settings | None = None
    ) -> SettledCalls:
        session.flush()
        ctx = JobContext(with_settings or settings, dialer or LoggingDialer())
        result = JOBS["settle-calls"].run(sessions, ctx, now)
        session.expire_all()
        return result

    return run_once


@pytest.fixture
def ann(session: Session) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    session.commit()


def rings_ann(client: FlaskClient, n: int) -> bool:
    """Whether a new call rings Ann (else she is still busy, and it goes to the answer machine)."""
    params = {"CallSid": f"CA{n:032d}", "From": OTHER_PARENT, "To": HEREFORD}
    return ANN in post(client, "/voice/incoming", params).get_data(as_text=True)


@pytest.mark.usefixtures("ann")
def test_an_answered_call_whose_end_never_arrived_is_settled_from_twilios_answer(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    run: Callable[..., SettledCalls],
    twilio: responses.RequestsMock,
) -> None:
    answered_call(client, session)
    start = clock()
    dialer = TwilioDialer(ACCOUNT, TOKEN)
    clock.advance(minutes=9)
    assert run(clock(), dialer).checked == 0  # a conversation goes on
    assert len(twilio.calls) == 0
    clock.advance(minutes=6)
    ended = start + timedelta(minutes=12)
    twilio.get(f"{API}/Calls/{LEG_SID}.json", json=twilio_call(LEG_SID, "completed", ended, 700))
    twilio.get(f"{API}/Calls/{SID}.json", json=twilio_call(SID, "completed", ended, 720))

    result = run(clock(), dialer)

    assert result == SettledCalls(checked=1, calls=1, legs=1, unknown=0, unreachable=0)
    leg = session.scalars(select(CallLeg)).one()
    assert (leg.state, leg.ended_at) == ("completed", ended)
    call = session.scalars(select(Call)).one()
    assert (call.status, call.outcome, call.ended_at, call.duration_s) == (
        "completed",
        "answered",
        ended,
        720,
    )
    assert rings_ann(client, 2)
    assert run(clock(), dialer).checked == 0
    assert len(twilio.calls) == 2


@pytest.mark.usefixtures("ann")
def test_a_conversation_twilio_says_is_still_going_is_left_alone(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    run: Callable[..., SettledCalls],
    twilio: responses.RequestsMock,
) -> None:
    answered_call(client, session)
    clock.advance(minutes=25)
    twilio.get(f"{API}/Calls/{LEG_SID}.json", json=twilio_call(LEG_SID, "in-progress", None, None))
    twilio.get(f"{API}/Calls/{SID}.json", json=twilio_call(SID, "in-progress", None, None))

    result = run(clock(), TwilioDialer(ACCOUNT, TOKEN))

    assert result == SettledCalls(checked=1, calls=0, legs=0, unknown=0, unreachable=0)
    assert session.scalars(select(CallLeg)).one().state == "accepted"
    assert session.scalars(select(Call)).one().outcome is None
    assert not rings_ann(client, 2)


@pytest.mark.usefixtures("ann")
def test_when_twilio_cannot_be_asked_a_silent_conversation_ends_as_unknown_after_90_minutes(
    client: FlaskClient, session: Session, clock: Clock, run: Callable[..., SettledCalls]
) -> None:
    answered_call(client, session)
    accepted = clock()
    clock.advance(minutes=89)
    assert run(clock()) == SettledCalls(checked=1, calls=0, legs=0, unknown=0, unreachable=0)
    assert not rings_ann(client, 2)
    clock.advance(minutes=2)

    result = run(clock())

    assert result == SettledCalls(checked=1, calls=1, legs=1, unknown=2, unreachable=0)
    leg = session.scalars(select(CallLeg).where(CallLeg.adviser_id.is_not(None))).first()
    assert leg is not None and (leg.state, leg.ended_at) == ("unknown", accepted)
    call = session.scalars(select(Call).where(Call.sid == SID)).one()
    assert (call.outcome, call.ended_at) == ("answered", accepted)
    assert rings_ann(client, 3)


def test_a_call_at_the_answer_machine_whose_end_never_arrived_is_a_missed_call(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    settings: Settings,
    run: Callable[..., SettledCalls],
    twilio: responses.RequestsMock,
) -> None:
    files_missed = dataclasses.replace(
        settings, callbacks=dataclasses.replace(settings.callbacks, missed_call_makes_callback=True)
    )
    dialer = TwilioDialer(ACCOUNT, TOKEN)
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    ended = clock() + timedelta(minutes=2)
    clock.advance(minutes=15)
    assert run(clock(), dialer, files_missed).checked == 0
    assert len(twilio.calls) == 0  # a caller may still be leaving a long message
    clock.advance(minutes=5)
    twilio.get(f"{API}/Calls/{SID}.json", json=twilio_call(SID, "completed", ended, 120))

    result = run(clock(), dialer, files_missed)
    assert (result.checked, result.calls) == (1, 1)

    call = session.scalars(select(Call)).one()
    assert (call.outcome, call.ended_at) == ("missed", ended)
    assert session.scalars(select(Callback.phone)).all() == [PARENT]


def test_a_leg_that_never_rang_is_ended_without_asking_twilio(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    run: Callable[..., SettledCalls],
    twilio: responses.RequestsMock,
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    session.commit()
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    clock.advance(minutes=11)  # the answer naming Ann was lost; nothing more was heard

    result = run(clock(), TwilioDialer(ACCOUNT, TOKEN))

    assert result == SettledCalls(checked=1, calls=0, legs=1, unknown=1, unreachable=0)
    assert len(twilio.calls) == 0
    leg = session.scalars(select(CallLeg)).one()
    assert (leg.state, leg.ended_at is not None) == ("unknown", True)


@pytest.mark.usefixtures("ann")
def test_a_late_dial_result_after_settling_rings_nobody_and_twilios_word_corrects_the_guess(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    run: Callable[..., SettledCalls],
) -> None:
    leg = answered_call(client, session)
    clock.advance(minutes=100)
    run(clock())
    done = {"CallSid": SID, "DialCallStatus": "completed", "CallStatus": "in-progress"}
    assert "<Dial" not in post(client, f"/voice/dial-result?leg={leg}", done).get_data(as_text=True)
    post(
        client, "/voice/status", {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "3"}
    )
    session.expire_all()
    call = session.scalars(select(Call).where(Call.sid == SID)).one()
    assert (call.outcome, call.status, call.ended_at) == ("answered", "completed", clock())
    assert [leg.state for leg in session.scalars(select(CallLeg))] == ["completed"]


# --- no transaction is held open while Twilio is asked --------------------------------------


class WatchingDialer:
    """Answers like Twilio, and notes whether the database was free each time it was asked."""

    places_calls = True

    def __init__(self, database_free: Callable[[], bool], answers: dict[str, CallProgress]):
        self.database_free = database_free
        self.answers = answers
        self.free: list[bool] = []

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        self.free.append(self.database_free())
        return self.answers.get(sid)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the job asked the dialer for {name}")


def database_free(engine: Engine) -> Callable[[], bool]:
    """Whether no other connection holds a transaction open (PostgreSQL) or the write lock
    (SQLite, where a transaction takes it from its first statement)."""
    if engine.dialect.name == "sqlite":
        path = make_url(engine.url).database

        def sqlite_free() -> bool:
            probe = sqlite3.connect(str(path), timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                probe.close()

        return sqlite_free

    def postgres_free() -> bool:
        with engine.connect() as conn:
            busy = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                )
            )
        return busy == 0

    return postgres_free


def test_no_transaction_is_open_while_twilio_is_asked(
    committed: Engine, settings: Settings
) -> None:
    start = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    clock = Clock(start)
    sessions = session_factory(committed)
    with Session(committed) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        setup.commit()
    app: Flask = create_app(make_runtime(settings, sessions=sessions, clock=clock))
    client = app.test_client()
    with Session(committed) as look:
        answered_call(client, look)
    clock.advance(minutes=30)
    ended = start + timedelta(minutes=20)
    dialer = WatchingDialer(
        database_free(committed),
        {
            LEG_SID: CallProgress(LEG_SID, "completed", ended, 1100),
            SID: CallProgress(SID, "completed", ended, 1200),
        },
    )
    runtime = make_runtime(settings, sessions=sessions, clock=clock, dialer=dialer)  # type: ignore[arg-type]
    assert database_free(committed)()

    result = run_job(runtime, "settle-calls")

    assert dialer.free == [True, True]
    assert result == SettledCalls(checked=1, calls=1, legs=1, unknown=0, unreachable=0)
    with Session(committed) as check:
        assert check.scalars(select(Call.outcome)).one() == "answered"
