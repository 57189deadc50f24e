"""A database that hangs, is locked or is slow: every voice webhook still answers within 5 seconds
(Twilio gives up at 15), with the answer machine, and status callbacks still get a 2xx.

These tests point the app at a real server that never answers, or hold a real lock, so the
driver's and the database's own limits are what is tested. Each request runs in a thread with a
generous limit of its own, so that a missing limit fails the test instead of hanging the run.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

import webhooks.voice
from calls.models import Call
from helpline.app import create_app, make_runtime
from helpline.migrate import upgrade
from tests.conftest import empty_database
from tests.constants import BASE_URL, HEREFORD, PARENT
from tests.factories import Clock, make_settings, signed_post

SID = "CA" + "cd" * 16
ANSWER_WITHIN_S = 5.0
GIVE_UP_AFTER_S = 12.0  # only so that a failing test ends; the promise is ANSWER_WITHIN_S
INCOMING = {"CallSid": SID, "From": PARENT, "To": HEREFORD}


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in accepted:  # lets any request still waiting on this server end at last
            conn.close()
        listener.close()


def timed_post(app: Flask, path: str, params: dict[str, str]) -> tuple[float, TestResponse | None]:
    """Post a signed webhook; how long the answer took, and the answer (None if none came)."""
    box: dict[str, TestResponse] = {}

    def send() -> None:
        box["response"] = signed_post(app.test_client(), path, params)

    started = time.monotonic()
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(GIVE_UP_AFTER_S)
    return time.monotonic() - started, box.get("response")


def assert_answer_machine_within_limit(took: float, response: TestResponse | None) -> None:
    """The caller hears the apology and the beep, in time."""
    assert response is not None, f"no answer within {GIVE_UP_AFTER_S} s"
    assert took < ANSWER_WITHIN_S, f"answered after {took:.1f} s"
    assert response.status_code == 200 and response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    root = ET.fromstring(body)
    assert [child.tag for child in root] == ["Say", "Say", "Say", "Record"]
    assert "Sorry, something went wrong" in body
    assert root.find("Record").get("action") == BASE_URL + "/voice/recorded"  # type: ignore[union-attr]


def app_on(url: str, clock: Clock) -> Flask:
    """The web app as `wsgi()` builds it, on the database at `url`."""
    return create_app(make_runtime(make_settings(DATABASE_URL=url), clock=clock))


# A database host that accepts the connection and never answers.


def test_incoming_call_is_answered_by_the_answer_machine_when_the_database_never_answers(
    clock: Clock,
) -> None:
    with silent_server() as port:
        app = app_on(f"postgresql+psycopg://x@127.0.0.1:{port}/x", clock)
        took, response = timed_post(app, "/voice/incoming", INCOMING)
        again, second = timed_post(app, "/voice/incoming", INCOMING)  # the pool is no help

    assert_answer_machine_within_limit(took, response)
    assert_answer_machine_within_limit(again, second)


def test_a_database_host_with_several_silent_addresses_still_gets_the_caller_an_answer(
    clock: Clock,
) -> None:
    # The driver tries each address in turn, each for the whole connect timeout: 3 x 2 s is
    # past the promise, so here the webhook's own deadline is what answers the caller.
    with silent_server() as one, silent_server() as two, silent_server() as three:
        hosts = "&".join(f"host=127.0.0.1:{port}" for port in (one, two, three))
        took, response = timed_post(
            app_on(f"postgresql+psycopg://x@/x?{hosts}", clock), "/voice/incoming", INCOMING
        )

    assert_answer_machine_within_limit(took, response)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/voice/status", {**INCOMING, "CallStatus": "completed", "SequenceNumber": "2"}),
        (
            "/voice/recording-status",
            {
                "CallSid": SID,
                "RecordingSid": "RE" + "5" * 32,
                "RecordingStatus": "completed",
                "RecordingDuration": "12",
            },
        ),
    ],
)
def test_status_callbacks_get_a_2xx_in_time_when_the_database_never_answers(
    clock: Clock, path: str, params: dict[str, str]
) -> None:
    with silent_server() as port:
        took, response = timed_post(
            app_on(f"postgresql+psycopg://x@127.0.0.1:{port}/x", clock), path, params
        )

    assert response is not None and took < ANSWER_WITHIN_S
    assert 200 <= response.status_code < 300


def test_health_check_says_the_database_is_unavailable_in_time(clock: Clock) -> None:
    with silent_server() as port:
        app = app_on(f"postgresql+psycopg://x@127.0.0.1:{port}/x", clock)
        box: dict[str, TestResponse] = {}
        started = time.monotonic()
        thread = threading.Thread(
            target=lambda: box.update(r=app.test_client().get("/healthz")), daemon=True
        )
        thread.start()
        thread.join(GIVE_UP_AFTER_S)
        took = time.monotonic() - started

    assert "r" in box and took < ANSWER_WITHIN_S
    assert box["r"].status_code == 503
    assert box["r"].get_json()["failed"] == ["database"]  # the others could not be checked
    assert box["r"].get_json()["checks"]["database"]["ok"] is False


# A database that answers, but whose tables another transaction holds locked.


@pytest.fixture
def own_database(database_url: str, tmp_path: Path) -> str:
    """A database the app under test may use through its own connections: a fresh SQLite
    file, or the run's PostgreSQL database (nothing is committed there: every request fails)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/locked.sqlite3"
        upgrade(url)
        return url
    return database_url


@contextmanager
def writes_locked(url: str) -> Iterator[None]:
    """Another connection holds the lock that the webhook needs, until the block ends."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long job would hold it
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE call IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def test_incoming_call_is_answered_by_the_answer_machine_while_the_database_is_locked(
    own_database: str, clock: Clock
) -> None:
    app = app_on(own_database, clock)
    with writes_locked(own_database):
        took, response = timed_post(app, "/voice/incoming", INCOMING)

    assert_answer_machine_within_limit(took, response)
    # Nothing of the failed request was kept; the next call is handled normally.
    engine = create_engine(own_database)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Call).where(Call.sid == SID)) == 0
    finally:
        engine.dispose()


def test_a_web_process_with_every_connection_in_use_still_answers_the_caller(
    own_database: str, clock: Clock
) -> None:
    # `[database] pool_size` and `max_overflow` bound each process's connections; when all are
    # in use, a webhook waits `pool_timeout_seconds` (2 s) for one, then plays the answer machine.
    settings = make_settings(DATABASE_URL=own_database)
    one = replace(settings.database, pool_size=1, max_overflow=0)
    runtime = make_runtime(replace(settings, database=one), clock=clock)
    app = create_app(runtime)
    with runtime.sessions.kw["bind"].connect():  # the process's only connection, busy
        took, response = timed_post(app, "/voice/incoming", INCOMING)

    assert_answer_machine_within_limit(took, response)


def test_the_scheduler_and_commands_may_wait_longer_than_the_web(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("statement and lock timeouts are PostgreSQL's; SQLite's busy wait is above")
    from helpline.app import database_engine

    settings = make_settings(DATABASE_URL=database_url)
    shown = {}
    for role in ("web", "background"):
        engine = database_engine(settings, role)  # type: ignore[arg-type]
        try:
            with engine.connect() as conn:
                shown[role] = [
                    conn.exec_driver_sql(f"SHOW {name}").scalar()
                    for name in ("statement_timeout", "lock_timeout")
                ]
        finally:
            engine.dispose()

    assert shown == {"web": ["3s", "2s"], "background": ["2min", "30s"]}


# Whatever the driver cannot bound (a server that stops answering halfway through, a name lookup
# that hangs): each webhook's own deadline.


class Stuck:
    """Makes a service function hang until the test lets it go on, then run as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.go_on = threading.Event()

    def hang(self, module: object, name: str) -> None:
        real = getattr(module, name)

        def hanging(*args: object, **kwargs: object) -> object:
            self.go_on.wait(30)
            return real(*args, **kwargs)

        self.monkeypatch.setattr(module, name, hanging)

    def release(self) -> None:
        """Let the stuck work go on, and wait until its webhook has finished with it."""
        self.go_on.set()
        for thread in threading.enumerate():
            if thread.name.startswith("webhook "):
                thread.join(10)


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stuck]:
    stuck = Stuck(monkeypatch)
    yield stuck
    stuck.release()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/deadline.sqlite3"
    upgrade(url)
    return url


def stored(url: str, model: type) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_a_voice_webhook_stuck_past_its_deadline_plays_the_answer_machine_and_keeps_nothing(
    sqlite_url: str, clock: Clock, stuck: Stuck
) -> None:
    import calls.service

    stuck.hang(calls.service, "record_incoming")

    took, response = timed_post(app_on(sqlite_url, clock), "/voice/incoming", INCOMING)

    assert_answer_machine_within_limit(took, response)
    # When the stuck work goes on at last, it is undone: the caller never heard of it.
    stuck.release()
    assert stored(sqlite_url, Call) == 0


def test_a_status_callback_stuck_past_its_deadline_gets_its_2xx_and_is_still_recorded(
    sqlite_url: str, clock: Clock, stuck: Stuck
) -> None:
    import calls.service

    stuck.hang(calls.service, "record_status")
    status = {**INCOMING, "CallStatus": "completed", "SequenceNumber": "2", "CallDuration": "4"}

    took, response = timed_post(app_on(sqlite_url, clock), "/voice/status", status)

    assert response is not None and took < ANSWER_WITHIN_S
    assert 200 <= response.status_code < 300
    # Nobody is waiting on a status callback's answer: its work carries on and is kept.
    stuck.release()
    assert stored(sqlite_url, Call) == 1


def test_a_status_callback_that_finds_every_connection_in_use_is_applied_late_not_lost(
    database_url: str, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time, so two webhooks cannot overlap there")
    with empty_database("postgresql", tmp_path) as own_database:
        upgrade(own_database)
        status_applied_late(own_database, clock, monkeypatch)


def status_applied_late(own_database: str, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    # The process has one connection. The first final status holds it for longer than a
    # webhook would wait for a connection (2 s); the second waits its turn, then is applied.
    settings = make_settings(DATABASE_URL=own_database)
    one = replace(settings.database, pool_size=1, max_overflow=0)
    app = create_app(make_runtime(replace(settings, database=one), clock=clock))
    real = webhooks.voice.status_reported
    slow_sid = "CA" + "51" * 16

    def slow_for_the_first(session, settings, report, now):  # type: ignore[no-untyped-def]
        real(session, settings, report, now)
        if report.sid == slow_sid:
            time.sleep(3)  # holding the process's only connection

    monkeypatch.setattr(webhooks.voice, "status_reported", slow_for_the_first)
    sids = [slow_sid, "CA" + "52" * 16]
    finals = [{"CallSid": sid, "CallStatus": "completed", "To": HEREFORD} for sid in sids]
    first = threading.Thread(target=timed_post, args=(app, "/voice/status", finals[0]))
    first.start()
    time.sleep(0.5)  # the first has its connection
    took, response = timed_post(app, "/voice/status", finals[1])
    first.join(GIVE_UP_AFTER_S)

    assert response is not None and response.status_code < 300 and took < ANSWER_WITHIN_S
    engine = create_engine(own_database)
    try:
        with engine.connect() as conn:
            for _ in range(100):  # the second is applied once the first lets go
                ended = conn.scalar(
                    select(func.count()).select_from(Call).where(Call.ended_at.is_not(None))
                )
                if ended == 2:
                    break
                conn.rollback()
                time.sleep(0.1)
        assert ended == 2
    finally:
        engine.dispose()
