"""The Twilio edge: forged requests, garbage, repeats and out-of-order callbacks."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callbacks.models import Message
from calls.models import Call, CallEvent
from helpline.app import create_app, make_runtime
from tests.constants import ANN, BASE_URL, HEREFORD, PARENT, TOKEN
from tests.factories import Clock, adviser, make_settings, signed_post

SID = "CA" + "ab" * 16


def post(client: FlaskClient, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    return signed_post(client, path, params)


def verbs(body: str) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [child.tag for child in root]


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_forged_incoming_call_stores_nothing(client: FlaskClient, session: Session) -> None:
    response = signed_post(
        client,
        "/voice/incoming",
        {"CallSid": SID, "From": PARENT, "To": HEREFORD},
        token="wrong",
        base_url=BASE_URL,
    )
    assert response.status_code == 403
    assert count(session, Call) == 0 and count(session, CallEvent) == 0


def test_signature_is_checked_against_the_public_url_not_the_internal_host(
    client: FlaskClient,
) -> None:
    params = {"CallSid": SID, "From": PARENT, "To": HEREFORD}
    internal = signed_post(
        client, "/voice/incoming", params, token=TOKEN, base_url="http://localhost"
    )
    public = signed_post(client, "/voice/incoming", params)
    assert (internal.status_code, public.status_code) == (403, 200)


def test_without_an_auth_token_every_webhook_is_refused(sessions, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(TWILIO_AUTH_TOKEN="")
    assert settings.twilio_auth_token is None
    app = create_app(make_runtime(settings, sessions=sessions, clock=clock))
    response = signed_post(
        app.test_client(), "/voice/incoming", {"CallSid": SID}, token="", base_url=BASE_URL
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"From": PARENT, "To": HEREFORD},
        {"CallSid": "", "From": "garbage", "To": "??"},
        {"CallSid": SID, "From": "\x00\xff", "To": "not a number", "Extra": "x" * 5000},
    ],
)
def test_signed_garbage_on_incoming_still_gets_the_caller_to_a_recording(
    client: FlaskClient, params: dict[str, str]
) -> None:
    response = post(client, "/voice/incoming", params)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    # Straight to the beep, or (no usable number) first asked for one, then on to the beep.
    assert "Record" in verbs(body) or (
        verbs(body)[-2:] == ["Gather", "Redirect"]
        and body.rstrip().endswith("/voice/record</Redirect></Response>")
    )


@pytest.mark.parametrize(
    "path",
    [
        "/voice/screen",
        "/voice/screen?leg=abc",
        "/voice/screen-answer?leg=999999",
        "/voice/dial-result",
        "/voice/answer-machine",
        "/voice/recorded",
    ],
)
def test_signed_garbage_on_other_voice_webhooks_answers_valid_twiml(
    client: FlaskClient, path: str
) -> None:
    response = post(client, path, {"Digits": "1"})
    assert response.status_code == 200
    assert verbs(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/voice/status", "/voice/recording-status"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"CallSid": SID},
        {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "x", "CallDuration": "-"},
        {
            "RecordingSid": "RE1",
            "CallSid": SID,
            "RecordingStatus": "completed",
            "RecordingDuration": "NaN",
        },
    ],
)
def test_status_callbacks_with_bad_parameters_get_2xx(
    client: FlaskClient, path: str, params: dict[str, str]
) -> None:
    assert post(client, path, params).status_code in (200, 204)


def test_an_internal_error_is_logged_without_personal_data_and_caller_hears_an_apology(
    client: FlaskClient,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import calls.ringing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"database exploded while handling {PARENT}")

    monkeypatch.setattr(calls.ringing, "ring_next", broken)
    caplog.set_level(logging.INFO)
    response = post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sorry, something went wrong" in body
    assert "Record" in verbs(body)
    assert "RuntimeError" in caplog.text and PARENT not in caplog.text


def test_a_failure_whose_rollback_fails_too_still_gets_the_caller_the_apology(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A connection the database has dropped fails the work, then fails again on the rollback:
    # the caller must hear the apology and the beep, not an empty answer.
    import calls.ringing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the connection went away")

    def rollback_fails(self: Session) -> None:
        raise RuntimeError("the connection went away again")

    monkeypatch.setattr(calls.ringing, "ring_next", broken)
    monkeypatch.setattr(Session, "rollback", rollback_fails)
    response = post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sorry, something went wrong" in body
    assert "Record" in verbs(body)


def test_repeated_and_out_of_order_status_callbacks_are_applied_once(
    client: FlaskClient, session: Session
) -> None:
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    done = {
        "CallSid": SID,
        "CallStatus": "completed",
        "SequenceNumber": "3",
        "CallDuration": "42",
        "From": PARENT,
        "To": HEREFORD,
    }
    late = {
        "CallSid": SID,
        "CallStatus": "in-progress",
        "SequenceNumber": "1",
        "From": PARENT,
        "To": HEREFORD,
    }
    for params in (done, done, late, done):
        assert post(client, "/voice/status", params).status_code == 200
    session.expire_all()
    call = session.scalars(select(Call)).one()
    assert (call.status, call.duration_s, call.last_sequence) == ("completed", 42, 3)
    statuses = session.scalars(select(CallEvent).where(CallEvent.kind == "status")).all()
    assert len(statuses) == 2


def test_status_for_a_call_whose_first_webhook_was_lost_still_records_the_call(
    client: FlaskClient, session: Session
) -> None:
    post(
        client,
        "/voice/status",
        {
            "CallSid": SID,
            "CallStatus": "completed",
            "From": PARENT,
            "To": HEREFORD,
            "CallDuration": "5",
        },
    )
    call = session.scalars(select(Call)).one()
    assert (call.office, call.from_number, call.outcome) == ("herefordshire", PARENT, "abandoned")


def test_repeated_recording_callbacks_make_one_message(
    client: FlaskClient, session: Session
) -> None:
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    recording = {
        "CallSid": SID,
        "RecordingSid": "RE" + "9" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "31",
        "RecordingUrl": "https://api.twilio.com/x",
    }
    for _ in range(3):
        post(client, "/voice/recording-status", recording)
    post(client, "/voice/recorded", {**recording, "Digits": "hangup"})
    assert count(session, Message) == 1


def test_a_retried_incoming_webhook_makes_one_call_and_rings_the_adviser_after_all(
    client: FlaskClient, session: Session
) -> None:
    # Twilio retries a first request only when our answer never reached it, so the adviser
    # that answer named was never rung: ring them now rather than skip them.
    adviser(session, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
    session.commit()
    first = post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    again = post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    assert ANN in first.get_data(as_text=True)
    assert ANN in again.get_data(as_text=True)
    assert count(session, Call) == 1
