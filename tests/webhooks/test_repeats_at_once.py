"""Twilio retries a callback it thinks was lost; on PostgreSQL fifty copies of one arriving at
the same moment, each on its own database connection, still take effect once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from callbacks.models import Callback, CallbackEvent, Message
from calls.models import Call, CallEvent
from helpline.app import create_app, make_runtime
from helpline.db import make_engine, session_factory
from helpline.settings import Settings
from tests.constants import HEREFORD, PARENT
from tests.factories import empty_tables, signed_post

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
COPIES = 50
SID = "CA" + "5" * 32
RECORDING = "RE" + "5" * 32


@pytest.fixture
def shared(database_url: str) -> Iterator[Engine]:
    """The PostgreSQL test database, through an engine with a connection for every copy;
    emptied again afterwards."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time, so the copies cannot overlap there")
    engine = make_engine(database_url, pool_size=COPIES, max_overflow=0)
    try:
        yield engine
    finally:
        empty_tables(engine)
        engine.dispose()


class Failures(logging.Handler):
    """Every error the service logs while the copies are handled."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture
def failures() -> Iterator[Failures]:
    handler = Failures()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def all_at_once(app: Flask, path: str, params: dict[str, str]) -> None:
    """Send `COPIES` copies of one signed request together, and wait until every one's work
    has finished (a status callback is answered at its deadline while its work goes on)."""
    barrier = threading.Barrier(COPIES, timeout=20)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            client = app.test_client()
            barrier.wait()
            statuses.append(signed_post(client, path, params).status_code)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=send) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    deadline = time.monotonic() + 60
    while any(t.name.startswith("webhook ") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a webhook's work never finished"
        time.sleep(0.05)
    assert errors == []
    assert statuses == [200] * COPIES


def count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_one_status_callback_fifty_times_at_once_is_one_event_and_one_change(
    shared: Engine, settings: Settings, failures: Failures
) -> None:
    app = create_app(make_runtime(settings, sessions=session_factory(shared), clock=lambda: NOW))
    incoming = {"CallSid": SID, "From": PARENT, "To": HEREFORD}
    assert signed_post(app.test_client(), "/voice/incoming", incoming).status_code == 200
    with Session(shared) as look:
        before = count(look, CallEvent, CallEvent.call_sid == SID)
    final = incoming | {"CallStatus": "completed", "CallDuration": "60", "SequenceNumber": "4"}

    all_at_once(app, "/voice/status", final)

    with Session(shared) as check:
        assert count(check, CallEvent, CallEvent.call_sid == SID, CallEvent.kind == "status") == 1
        call = check.scalars(select(Call).where(Call.sid == SID)).one()
        assert call.status == "completed" and call.last_sequence == 4
        assert call.ended_at == NOW and call.duration_s == 60
        # The one status event, and no correction or second ending on top of it.
        assert count(check, CallEvent, CallEvent.call_sid == SID) == before + 1
    assert failures.seen == []


def test_a_status_callback_for_an_unseen_call_fifty_times_at_once_makes_one_call(
    shared: Engine, settings: Settings, failures: Failures
) -> None:
    # The call's first webhook never arrived: each copy would make the call if it were alone.
    app = create_app(make_runtime(settings, sessions=session_factory(shared), clock=lambda: NOW))
    params = {"CallSid": SID, "From": PARENT, "To": HEREFORD, "CallStatus": "completed"}

    all_at_once(app, "/voice/status", params | {"CallDuration": "30", "SequenceNumber": "2"})

    with Session(shared) as check:
        assert count(check, Call, Call.sid == SID) == 1
        assert count(check, CallEvent, CallEvent.call_sid == SID, CallEvent.kind == "status") == 1
        assert check.scalars(select(Call.status).where(Call.sid == SID)).one() == "completed"
    assert failures.seen == []


def test_one_recording_status_fifty_times_at_once_is_one_message_and_one_callback(
    shared: Engine, settings: Settings, failures: Failures
) -> None:
    app = create_app(make_runtime(settings, sessions=session_factory(shared), clock=lambda: NOW))
    incoming = {"CallSid": SID, "From": PARENT, "To": HEREFORD}
    # Nobody is on shift: the call goes to the answer machine.
    assert "<Record" in signed_post(app.test_client(), "/voice/incoming", incoming).get_data(
        as_text=True
    )
    done = {
        "CallSid": SID,
        "RecordingSid": RECORDING,
        "RecordingStatus": "completed",
        "RecordingDuration": "25",
        "RecordingUrl": "https://api.twilio.com/recording",
    }

    all_at_once(app, "/voice/recording-status", done)

    with Session(shared) as check:
        assert count(check, Message) == 1
        assert count(check, Callback) == 1
        callback = check.scalars(select(Callback)).one()
        assert callback.phone == PARENT and callback.status == "open"
        assert count(check, CallbackEvent, CallbackEvent.kind == "created") == 1
        message_events = count(check, CallEvent, CallEvent.kind == "message")
        assert message_events == 1
        assert check.scalars(select(Message.callback_id)).one() == callback.id
    assert failures.seen == []
