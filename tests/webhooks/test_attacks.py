"""Requests made to look like Twilio's, and Twilio's own requests replayed.

tests/webhooks/test_forged_requests.py refuses unsigned requests, a wrong token and a changed
value on every route. Here, on every route too: a genuine signature made for another URL (another
path, host, scheme or id in the query), a signature with parameters added, repeated with another
value, or removed after signing, and a signature that is not one; each is refused with 403 and
changes nothing. Then replays: an identical, correctly signed request delivered again makes no
second record.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from callbacks.models import Callback, Message
from calls.models import Call, CallEvent
from tests.constants import BASE_URL, HEREFORD, PARENT, TOKEN
from tests.factories import Clock, signed_post
from tests.webhooks.test_forged_requests import (
    QUERY_IDS,
    SID,
    forged_params,
    post_routes,
    seed,
    snapshot,
)

RECORDING = "RE" + "1" * 32


def with_ids(route: str, ids: dict[str, int], shift: int = 0) -> str:
    """The route with the ids the service writes into its own URLs, moved by `shift`."""
    return route + "?" + "&".join(f"{name}={ids[name] + shift}" for name in QUERY_IDS)


def signature(url: str, params: dict[str, str]) -> str:
    """The signature Twilio gives a request to `url` with `params`, made with the real token."""
    return str(RequestValidator(TOKEN).compute_signature(url, params))


def post_with(
    client: FlaskClient, path: str, data: dict[str, str] | MultiDict[str, str], signed: str
) -> TestResponse:
    return client.post(path, data=data, headers={"X-Twilio-Signature": signed})


# Each made with the real token, for a URL other than the one requested.
ELSEWHERE = {
    "another path": lambda path: BASE_URL + "/voice/elsewhere" + path[path.index("?") :],
    "another host": lambda path: "https://attacker.example.test" + path,
    "http, not https": lambda path: BASE_URL.replace("https://", "http://") + path,
    "another port": lambda path: BASE_URL + ":8443" + path,
    "no query": lambda path: BASE_URL + path[: path.index("?")],
}


@pytest.mark.parametrize("how", sorted(ELSEWHERE))
def test_a_genuine_signature_for_another_url_is_refused_on_every_webhook(
    app: Flask, client: FlaskClient, session: Session, clock: Clock, how: str
) -> None:
    ids = seed(session, clock())
    before = snapshot(session)
    params = forged_params()
    answers = {}
    for route in post_routes(app):
        path = with_ids(route, ids)
        answers[route] = post_with(
            client, path, params, signature(ELSEWHERE[how](path), params)
        ).status_code
    assert answers == {route: 403 for route in post_routes(app)}
    assert snapshot(session) == before


def test_a_signature_for_another_legs_url_is_refused(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    # Twilio signed a request about leg (or attempt) N; the same request sent for N+1.
    ids = seed(session, clock())
    before = snapshot(session)
    params = forged_params()
    answers = {}
    for route in post_routes(app):
        signed = signature(BASE_URL + with_ids(route, ids), params)
        answers[route] = post_with(
            client, with_ids(route, ids, shift=1), params, signed
        ).status_code
    assert answers == {route: 403 for route in post_routes(app)}
    assert snapshot(session) == before


def changed_after_signing(how: str, params: dict[str, str]) -> MultiDict[str, str]:
    """The parameters as they arrive, after signing, changed in one of the ways below."""
    items = list(params.items())
    if how == "parameter added":
        items.append(("Digits2", "1"))
    elif how == "value repeated":
        # A second CallStatus placed first: the value the service would read.
        items.insert(0, ("CallStatus", "in-progress"))
    elif how == "parameter removed":
        items = [(name, value) for name, value in items if name != "From"]
    elif how == "moved to the query":
        items = [(name, value) for name, value in items if name != "CallSid"]
    return MultiDict(items)


@pytest.mark.parametrize(
    "how", ["parameter added", "value repeated", "parameter removed", "moved to the query"]
)
def test_parameters_changed_after_signing_are_refused_on_every_webhook(
    app: Flask, client: FlaskClient, session: Session, clock: Clock, how: str
) -> None:
    ids = seed(session, clock())
    before = snapshot(session)
    params = forged_params()
    answers = {}
    for route in post_routes(app):
        path = with_ids(route, ids)
        signed = signature(BASE_URL + path, params)
        sent = path + (f"&CallSid={SID}" if how == "moved to the query" else "")
        answers[route] = post_with(
            client, sent, changed_after_signing(how, params), signed
        ).status_code
    assert answers == {route: 403 for route in post_routes(app)}
    assert snapshot(session) == before


def test_a_signature_made_with_the_default_port_written_out_is_accepted(
    client: FlaskClient, session: Session
) -> None:
    # Twilio has signed some requests with the port written out (":443"); its own check
    # accepts both forms, and so does the service.
    path, params = "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD}
    with_port = BASE_URL.replace(".test", ".test:443") + path
    assert with_port != BASE_URL + path
    answer = post_with(client, path, params, signature(with_port, params))
    assert answer.status_code == 200 and b"<Response>" in answer.data
    assert count(session, Call) == 1


@pytest.mark.parametrize(
    "header",
    [
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "not base64 at all!"},
        {"X-Twilio-Signature": "A" * 10_000},
        {"X-Twilio-Signature": "sïgnature\u00e9=="},
        # Claims the newer algorithm, whose shared key this service does not have.
        {
            "X-Twilio-Signature": "c2lnbmF0dXJl",
            "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256",
        },
        {
            "X-Twilio-Signature": "c2lnbmF0dXJl",
            "X-Twilio-Webhooks-Signature-Settings": "algorithm=md5",
        },
    ],
    ids=["empty", "garbage", "huge", "not ascii", "other algorithm", "unknown algorithm"],
)
def test_a_signature_that_is_not_one_is_refused(
    app: Flask, client: FlaskClient, session: Session, clock: Clock, header: dict[str, str]
) -> None:
    ids = seed(session, clock())
    before = snapshot(session)
    answers = {
        route: client.post(with_ids(route, ids), data=forged_params(), headers=header).status_code
        for route in post_routes(app)
    }
    assert answers == {route: 403 for route in post_routes(app)}
    assert snapshot(session) == before


# Replays: Twilio's own request, delivered twice (a retry, or someone who captured it).


def count(session: Session, model: type[object]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


STATUS_CALLBACKS = {
    "/voice/status": {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "3"},
    "/voice/leg-status": {
        "CallSid": "CA" + "ef" * 16,
        "ParentCallSid": SID,
        "CallStatus": "completed",
        "SequenceNumber": "2",
    },
    "/voice/recording-status": {
        "CallSid": SID,
        "RecordingSid": RECORDING,
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
    },
    "/voice/callback/status": {"CallSid": "CA" + "cd" * 16, "CallStatus": "no-answer"},
}


@pytest.mark.parametrize("route", sorted(STATUS_CALLBACKS))
def test_a_replayed_status_callback_changes_nothing(
    client: FlaskClient, session: Session, clock: Clock, route: str
) -> None:
    ids = seed(session, clock())
    path = with_ids(route, ids)
    first = signed_post(client, path, STATUS_CALLBACKS[route])
    assert first.status_code == 200
    after_first = snapshot(session)
    clock.advance(minutes=5)
    again = signed_post(client, path, STATUS_CALLBACKS[route])
    assert again.status_code == 200
    assert snapshot(session) == after_first


def test_the_callbacks_replayed_are_ones_that_change_something(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    # The counterpart of the test above: each first delivery does change something.
    ids = seed(session, clock())
    for route, params in sorted(STATUS_CALLBACKS.items()):
        before = snapshot(session)
        assert signed_post(client, with_ids(route, ids), params).status_code == 200
        assert snapshot(session) != before, route


def test_an_earlier_status_replayed_after_a_later_one_changes_nothing(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    seed(session, clock())
    ringing = {"CallSid": SID, "CallStatus": "in-progress", "SequenceNumber": "1"}
    signed_post(client, "/voice/status", ringing)
    clock.advance(minutes=3)
    ended = {
        "CallSid": SID,
        "CallStatus": "completed",
        "SequenceNumber": "2",
        "CallDuration": "180",
    }
    signed_post(client, "/voice/status", ended)
    after_end = snapshot(session)
    clock.advance(minutes=1)
    assert signed_post(client, "/voice/status", ringing).status_code == 200
    assert snapshot(session) == after_end
    call = session.scalars(select(Call).where(Call.sid == SID)).one()
    assert (call.status, call.duration_s) == ("completed", 180)


def test_a_replayed_incoming_call_makes_no_second_call(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    params = {"CallSid": "CA" + "77" * 16, "From": PARENT, "To": HEREFORD}
    assert signed_post(client, "/voice/incoming", params).status_code == 200
    calls, events = count(session, Call), count(session, CallEvent)
    clock.advance(seconds=20)
    assert signed_post(client, "/voice/incoming", params).status_code == 200
    assert (count(session, Call), count(session, CallEvent)) == (calls, events)


def test_a_replayed_recording_makes_no_second_message_or_callback(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    params = {
        "CallSid": "CA" + "77" * 16,
        "From": PARENT,
        "To": HEREFORD,
        "RecordingSid": RECORDING,
        "RecordingDuration": "15",
        "RecordingUrl": "https://api.twilio.com/recording",
    }
    assert signed_post(client, "/voice/recorded", params).status_code == 200
    after_first = snapshot(session)
    assert (count(session, Message), count(session, Callback)) == (1, 1)
    clock.advance(hours=1)
    assert signed_post(client, "/voice/recorded", params).status_code == 200
    assert snapshot(session) == after_first
