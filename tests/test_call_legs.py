"""Each adviser's leg of a live call: its end, however Twilio reports it, repeats included."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from calls.models import Call, CallLeg
from tests.conftest import BASE_URL, HEREFORD, TOKEN, Clock
from tests.factories import adviser, signed_post

MONDAY = date(2026, 11, 30)
PARENT = "+447700900123"
ANN, BEN, CAT, DAN = "+447700900001", "+447700900002", "+447700900003", "+447700900004"
SID = "CA" + "5" * 32


@pytest.fixture
def team(session: Session) -> None:
    """Two Herefordshire advisers and one Worcestershire adviser on shift on Monday."""
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    session.commit()


def post(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    return signed_post(client, path, params, token=TOKEN, base_url=BASE_URL)


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
