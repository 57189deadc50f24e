"""A commit that is still under way when a voice webhook's deadline passes: the caller (or the
adviser) must hear the answer that matches what was stored, never the fallback for work that
lands a moment later.

The commit is made slow on the real engine, with an event listener that sleeps before the
driver commits, only in the webhook's own thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

import helpline.migrations.models  # noqa: F401 - every table in Base.metadata for the clean-up
from calls.models import Call, CallLeg
from helpline.app import create_app, make_runtime
from helpline.db import Base
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, adviser, make_settings, signed_post

MONDAY = date(2026, 11, 30)
ANN = "+447700900001"
PARENT = "+447700900123"
SID = "CA" + "e1" * 16
LEG_SID = "CA" + "e2" * 16
DEADLINE_MS = 1000
SLOW_S = 1.8  # past the deadline, well within the time a commit is waited for


@pytest.fixture
def app(database_url: str, clock: Clock) -> Iterator[Flask]:
    """The web app on its own engine, as `wsgi()` builds it, with a short deadline; every
    table is emptied afterwards (its work is committed for real)."""
    settings = make_settings(DATABASE_URL=database_url)
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, webhook_deadline_ms=DEADLINE_MS),
    )
    runtime = make_runtime(settings, clock=clock)
    engine: Engine = runtime.sessions.kw["bind"]
    with Session(engine) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", MONDAY)
        setup.commit()
    try:
        yield create_app(runtime)
    finally:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
        engine.dispose()


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["helpline"].sessions.kw["bind"]
    return engine


@contextmanager
def slow_commits(engine: Engine, then: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Every commit made by a webhook's thread waits SLOW_S before the driver commits."""

    def slow(_conn: Any) -> None:
        if threading.current_thread().name.startswith("webhook "):
            time.sleep(SLOW_S)
            then()

    event.listen(engine, "commit", slow)
    try:
        yield
    finally:
        finish_webhooks()  # whatever the answer was, let the work land before looking
        event.remove(engine, "commit", slow)


def finish_webhooks() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("webhook "):
            thread.join(10)


def post(app: Flask, path: str, params: dict[str, str]) -> tuple[float, str]:
    started = time.monotonic()
    response = signed_post(app.test_client(), path, params, token=TOKEN, base_url=BASE_URL)
    assert response.status_code == 200
    return time.monotonic() - started, response.get_data(as_text=True)


def verbs(body: str) -> list[str]:
    return [child.tag for child in ET.fromstring(body)]


def stored(app: Flask) -> tuple[Call | None, list[CallLeg]]:
    with Session(engine_of(app)) as look:
        call = look.scalars(select(Call).where(Call.sid == SID)).one_or_none()
        legs = list(look.scalars(select(CallLeg).order_by(CallLeg.id)))
        look.expunge_all()
        return call, legs


def test_an_incoming_call_whose_commit_outlasts_the_deadline_hears_what_was_stored(
    app: Flask,
) -> None:
    with slow_commits(engine_of(app)):
        took, body = post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})

    call, legs = stored(app)
    assert call is not None
    assert [leg.state for leg in legs] == ["ringing"]
    assert call.reached_answer_machine_at is None
    # So the caller hears Ann being rung, not the answer machine.
    assert "Dial" in verbs(body) and ANN in body
    assert "Record" not in verbs(body)
    assert DEADLINE_MS / 1000 < took < 5


def test_an_adviser_whose_acceptance_commits_slowly_is_put_through(app: Flask) -> None:
    post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    _, [leg] = stored(app)
    params = {"CallSid": LEG_SID, "ParentCallSid": SID}
    post(app, f"/voice/screen?leg={leg.id}", params)

    with slow_commits(engine_of(app)):
        _, body = post(app, f"/voice/screen-answer?leg={leg.id}", {**params, "Digits": "1"})

    call, [leg] = stored(app)
    assert leg.state == "accepted" and call is not None and call.answered_by_id == leg.adviser_id
    assert verbs(body) == []  # an empty answer bridges the adviser to the caller


def test_a_slow_commit_that_then_fails_gets_the_fallback_and_keeps_nothing(app: Flask) -> None:
    def fail() -> None:
        raise RuntimeError("the commit failed")

    with slow_commits(engine_of(app), then=fail):
        _, body = post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})

    assert verbs(body)[-1] == "Record"  # the apology and the answer machine
    assert stored(app) == (None, [])


def test_a_commit_that_hangs_is_waited_for_only_so_long(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhooks import edge

    monkeypatch.setattr(edge, "LAST_ANSWER_S", DEADLINE_MS / 1000 + 0.3)

    with slow_commits(engine_of(app)):
        took, body = post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})

    # The request still answers (with the fallback) before the commit ends: Twilio would
    # otherwise give up on it altogether.
    assert took < SLOW_S
    assert verbs(body)[-1] == "Record"
