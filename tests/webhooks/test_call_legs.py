"""Each adviser's leg of a live call: its end, however Twilio reports it, repeats included."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from calls.models import Call, CallEvent, CallLeg
from tests.constants import ANN, BASE_URL, BEN, CAT, DAN, HEREFORD, MONDAY, OTHER_PARENT, PARENT
from tests.factories import Clock, adviser, signed_post

SID = "CA" + "5" * 32


@pytest.fixture
def team(session: Session) -> None:
    """Two Herefordshire advisers and one Worcestershire adviser on shift on Monday."""
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    session.commit()


def post(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    return signed_post(client, path, params)


def text(response: TestResponse) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def legs_of(session: Session) -> list[tuple[str, str, bool]]:
    """Each leg as (adviser, state, ended)."""
    session.expire_all()
    return [
        (leg.adviser.name, leg.state, leg.ended_at is not None)
        for leg in session.scalars(select(CallLeg).order_by(CallLeg.id))
    ]


def ring_ann(client: FlaskClient, session: Session) -> int:
    """A call comes in and rings Ann; her leg's id."""
    assert ANN in text(
        post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    )
    return session.scalars(select(CallLeg)).one().id


@pytest.mark.usefixtures("team")
def test_a_dial_result_after_the_caller_has_gone_rings_nobody(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    leg = ring_ann(client, session)
    clock.advance(seconds=10)
    post(
        client, "/voice/status", {"CallSid": SID, "CallStatus": "completed", "SequenceNumber": "2"}
    )
    late = {"CallSid": SID, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}
    answer = text(post(client, f"/voice/dial-result?leg={leg}", late))
    assert BEN not in answer and "<Dial" not in answer
    assert legs_of(session) == [("Ann Ash", "caller-gone", True)]
    call = session.scalars(select(Call)).one()
    assert call.outcome == "abandoned"


def test_a_retried_dial_result_rings_the_same_adviser_and_leaves_no_leg_that_never_rang(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    for name, phone in (("Ann Ash", ANN), ("Ben Birch", BEN), ("Dan Dale", DAN)):
        adviser(session, name, phone, "herefordshire", MONDAY)
    session.commit()
    leg = ring_ann(client, session)
    clock.advance(seconds=20)
    rang_out = {"CallSid": SID, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}
    first = text(post(client, f"/voice/dial-result?leg={leg}", rang_out))
    # Twilio never got that answer, so Ben's phone never rang; it asks again.
    again = text(post(client, f"/voice/dial-result?leg={leg}", rang_out))
    assert BEN in first and BEN in again and DAN not in again
    assert legs_of(session) == [
        ("Ann Ash", "no-answer", True),
        ("Ben Birch", "cancelled", True),
        ("Ben Birch", "ringing", False),
    ]


# --- each leg's own status callback ----------------------------------------------------------

LEG_SID = "CA" + "7" * 32


def leg_status(client: FlaskClient, leg: int, status: str, seq: int, **extra: str) -> TestResponse:
    params = {
        "CallSid": LEG_SID,
        "ParentCallSid": SID,
        "CallStatus": status,
        "SequenceNumber": str(seq),
        "CallbackSource": "call-progress-events",
        **extra,
    }
    return post(client, f"/voice/leg-status?leg={leg}", params)


def accept(client: FlaskClient, leg: int) -> None:
    """The adviser's phone answers the leg and they press 1."""
    params = {"CallSid": LEG_SID, "ParentCallSid": SID}
    assert "Press 1" in text(post(client, f"/voice/screen?leg={leg}", params))
    assert "<Say" not in text(
        post(client, f"/voice/screen-answer?leg={leg}", {**params, "Digits": "1"})
    )


@pytest.mark.usefixtures("team")
def test_each_adviser_leg_reports_its_own_status_to_the_service(
    client: FlaskClient, session: Session
) -> None:
    body = text(post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD}))
    leg = session.scalars(select(CallLeg)).one()
    number = ET.fromstring(body).find("Dial/Number")
    assert number is not None and number.text == ANN
    assert number.get("statusCallback") == f"{BASE_URL}/voice/leg-status?leg={leg.id}"
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"
    assert number.get("statusCallbackMethod") == "POST"


def test_an_answered_call_whose_end_never_arrives_frees_the_adviser_when_her_leg_ends(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    session.commit()
    leg = ring_ann(client, session)
    for seq, status in enumerate(("initiated", "ringing", "in-progress")):
        assert leg_status(client, leg, status, seq).status_code == 200
    accept(client, leg)
    clock.advance(minutes=12)
    # The conversation ends, but neither the dial result nor the call's final status arrive.
    assert leg_status(client, leg, "completed", 3, CallDuration="700").status_code == 200
    assert legs_of(session) == [("Ann Ash", "completed", True)]
    clock.advance(minutes=1)
    params = {"CallSid": "CA" + "6" * 32, "From": OTHER_PARENT, "To": HEREFORD}
    assert ANN in text(post(client, "/voice/incoming", params))


@pytest.mark.usefixtures("team")
def test_repeated_and_late_leg_statuses_change_nothing_more(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    leg = ring_ann(client, session)
    accept(client, leg)
    clock.advance(minutes=5)
    for status, seq in (("completed", 3), ("completed", 3), ("in-progress", 2), ("ringing", 1)):
        assert leg_status(client, leg, status, seq).status_code == 200
    clock.advance(seconds=2)
    done = {"CallSid": SID, "DialCallStatus": "completed", "CallStatus": "in-progress"}
    assert "Thank you" in text(post(client, f"/voice/dial-result?leg={leg}", done))
    assert legs_of(session) == [("Ann Ash", "completed", True)]
    ended = session.scalars(select(CallEvent).where(CallEvent.kind == "leg-ended")).all()
    assert len(ended) == 1 and ended[0].at == clock.at - timedelta(seconds=2)
    call = session.scalars(select(Call)).one()
    assert call.outcome is None  # the call itself goes on until its own final status


@pytest.mark.usefixtures("team")
def test_an_adviser_leg_that_rings_out_is_ended_by_its_status_and_the_next_adviser_rung(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    leg = ring_ann(client, session)
    clock.advance(seconds=20)
    assert leg_status(client, leg, "no-answer", 2).status_code == 200
    assert legs_of(session) == [("Ann Ash", "no-answer", True)]
    rang_out = {"CallSid": SID, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}
    assert BEN in text(post(client, f"/voice/dial-result?leg={leg}", rang_out))


@pytest.mark.usefixtures("team")
def test_a_leg_status_unsigned_or_about_another_call_changes_nothing(
    client: FlaskClient, session: Session
) -> None:
    leg = ring_ann(client, session)
    params = {"CallSid": LEG_SID, "ParentCallSid": SID, "CallStatus": "completed"}
    assert client.post(f"/voice/leg-status?leg={leg}", data=params).status_code == 403
    forged = signed_post(
        client, f"/voice/leg-status?leg={leg}", params, token="wrong", base_url=BASE_URL
    )
    assert forged.status_code == 403
    other = leg_status(client, leg, "completed", 3, ParentCallSid="CA" + "9" * 32)
    assert other.status_code == 200
    unknown = leg_status(client, leg + 100, "completed", 3)
    assert unknown.status_code == 200
    assert legs_of(session) == [("Ann Ash", "ringing", False)]
