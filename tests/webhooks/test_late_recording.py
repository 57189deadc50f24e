"""/voice/recorded past its deadline: the caller is thanked whatever happens (its answer does not
depend on its work), so work that finishes late is still kept, like a status callback's, rather
than losing the message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select

from callbacks.models import Message
from helpline.app import create_app, make_runtime
from helpline.migrate import upgrade
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, make_settings, signed_post

SID = "CA" + "f1" * 16
RECORDING = "RE" + "f2" * 16
RECORDED = {
    "CallSid": SID,
    "From": "+447700900123",
    "To": HEREFORD,
    "RecordingSid": RECORDING,
    "RecordingUrl": "https://api.twilio.com/recording",
    "RecordingDuration": "12",
}


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/late.sqlite3"
    upgrade(url)
    return url


@pytest.fixture
def go_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Filing the message hangs until the test lets it go on."""
    import webhooks.answer_machine

    event = threading.Event()
    real = webhooks.answer_machine.record_message

    def hanging(*args: object, **kwargs: object) -> object:
        event.wait(30)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(webhooks.answer_machine, "record_message", hanging)
    yield event
    event.set()
    for thread in threading.enumerate():
        if thread.name.startswith("webhook "):
            thread.join(10)


def messages(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Message)) or 0)
    finally:
        engine.dispose()


def test_a_message_filed_after_the_deadline_is_kept_and_the_caller_thanked_in_time(
    url: str, clock: Clock, go_on: threading.Event
) -> None:
    app: Flask = create_app(make_runtime(make_settings(DATABASE_URL=url), clock=clock))
    started = time.monotonic()
    response = signed_post(
        app.test_client(), "/voice/recorded", RECORDED, token=TOKEN, base_url=BASE_URL
    )
    took = time.monotonic() - started

    assert took < 5
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Thank you" in body and "<Hangup" in body
    go_on.set()
    for thread in threading.enumerate():
        if thread.name.startswith("webhook "):
            thread.join(10)
    assert messages(url) == 1
