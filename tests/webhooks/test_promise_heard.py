"""The call-back promise a caller hears is the one the queue keeps: "within 2 working days"
only when the callback gets that deadline, and plain words about what happens otherwise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.models import Callback
from helpline.app import create_app, make_runtime
from helpline.settings import Settings
from rota.service import close_office
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, adviser, signed_post

PARENT = "+447700900123"
SID = "CA" + "7e" * 16
PROMISE = "within 2 working days"


def post(app: Flask, path: str, params: dict[str, str]) -> str:
    response = signed_post(app.test_client(), path, params, token=TOKEN, base_url=BASE_URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def heard(body: str) -> str:
    """Everything the caller hears in one TwiML answer."""
    return " ".join(say.text or "" for say in ET.fromstring(body).iter("Say"))


def leave_message(app: Flask, session: Session) -> Callback:
    """The caller leaves a 20-second message; the callback it was filed in."""
    recording = {
        "CallSid": SID,
        "RecordingSid": "RE" + "7e" * 16,
        "RecordingUrl": "https://api.twilio.com/recording",
        "RecordingDuration": "20",
    }
    post(app, "/voice/recorded", recording)
    session.expire_all()
    return session.scalars(select(Callback)).one()


def test_a_message_left_while_the_office_is_closed_until_further_notice_promises_no_time(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    close_office(session, settings, "herefordshire", clock(), reason="flood")
    session.commit()

    words = heard(post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD}))

    assert PROMISE not in words and "working day" not in words
    assert "closed until further notice" in words
    assert "as soon as" in words
    assert leave_message(app, session).due_at is None


def test_a_withheld_caller_hears_no_promise_before_the_beep_either(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    close_office(session, settings, "herefordshire", clock(), reason="flood")
    session.commit()
    incoming = {"CallSid": SID, "From": "anonymous", "To": HEREFORD}
    assert "key in the number" in heard(post(app, "/voice/incoming", incoming))

    words = heard(post(app, "/voice/callback-number", {"CallSid": SID, "Digits": ""}))

    assert PROMISE not in words and "as soon as" in words


def test_an_office_with_no_hours_configured_promises_no_time(
    settings: Settings, sessions: sessionmaker[Session], session: Session, clock: Clock
) -> None:
    hereford = replace(settings.offices["herefordshire"], hours={})
    no_hours = replace(settings, offices={**settings.offices, "herefordshire": hereford})
    app = create_app(make_runtime(no_hours, sessions=sessions, clock=clock))

    words = heard(post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD}))

    assert PROMISE not in words and "as soon as" in words
    assert "no regular opening hours" in words
    assert leave_message(app, session).due_at is None


def test_an_office_closed_until_a_known_time_still_promises_working_days(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    reopens = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    close_office(session, settings, "herefordshire", clock(), reopens, reason="training")
    session.commit()

    words = heard(post(app, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD}))

    assert PROMISE in words and "until further notice" not in words
    assert leave_message(app, session).due_at is not None


@pytest.fixture
def offering_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Flask:
    policy = replace(settings.callbacks, office_hours_callback_offer=True)
    return create_app(
        make_runtime(replace(settings, callbacks=policy), sessions=sessions, clock=clock)
    )


def test_asking_to_be_called_back_for_an_office_closed_until_further_notice_promises_no_time(
    offering_app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    # Herefordshire is closed for now; a Worcestershire adviser is on shift, so the caller is
    # offered a call back while they hold.
    adviser(session, "Cat Cedar", "+447700900003", "worcestershire", date(2026, 11, 30))
    close_office(session, settings, "herefordshire", clock(), reason="flood")
    session.commit()
    incoming = {"CallSid": SID, "From": PARENT, "To": HEREFORD}
    assert "press 2" in heard(post(offering_app, "/voice/incoming", incoming))

    words = heard(post(offering_app, "/voice/callback-request", {"CallSid": SID, "Digits": "2"}))

    assert PROMISE not in words and "working day" not in words
    assert "as soon as" in words
    session.expire_all()
    assert session.scalars(select(Callback)).one().due_at is None
