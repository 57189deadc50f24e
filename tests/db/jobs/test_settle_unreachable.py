"""settle-calls when Twilio is out of reach, and Twilio's word arriving after a call or leg was
settled as unknown.

"Twilio unreachable" is not "unknown to Twilio": nothing is settled on it (the next run asks
again), so a long conversation during an API blip is neither ended at its accept time nor
interrupted by a new call for its adviser. And a call or leg that was settled as unknown (no
credentials, or a call Twilio does not know) is corrected by Twilio's real final status when it
comes, without undoing anything that really happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
import requests
import responses
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from callbacks.job_results import SettledCalls
from callbacks.jobs import JOBS, JobContext
from calls.models import Call, CallLeg
from helpline.dialer import Dialer, LoggingDialer
from helpline.settings import Settings
from tests.constants import ACCOUNT, BASE_URL, HEREFORD, TOKEN
from tests.db.jobs.helpers import twilio_call
from tests.factories import Clock, adviser, signed_post
from webhooks.twilio_dialer import TwilioDialer

MONDAY = date(2026, 11, 30)
PARENT = "+447700900123"
ANN, BEA = "+447700900001", "+447700900002"
SID = "CA" + "5" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"


def post(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    response = signed_post(client, path, params, token=TOKEN, base_url=BASE_URL)
    assert response.status_code == 200
    return response


def leg_sid(n: int) -> str:
    return f"CA{n:032d}"


def accept(client: FlaskClient, leg: int) -> None:
    params = {"CallSid": leg_sid(leg), "ParentCallSid": SID}
    post(client, f"/voice/screen?leg={leg}", params)
    post(client, f"/voice/screen-answer?leg={leg}", {**params, "Digits": "1"})


def answered_call(client: FlaskClient, session: Session) -> int:
    """A call rings Ann, who presses 1; nothing more is heard of it. Her leg's id."""
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    leg = session.scalars(select(CallLeg)).one().id
    session.commit()  # on SQLite a reading session holds the write lock until it ends
    accept(client, leg)
    return leg


def rings(client: FlaskClient, n: int, phone: str) -> bool:
    params = {"CallSid": f"CA{n:032d}", "From": "+447700900124", "To": HEREFORD}
    return phone in post(client, "/voice/incoming", params).get_data(as_text=True)


@pytest.fixture
def twilio() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def run(
    sessions: sessionmaker[Session], session: Session, settings: Settings
) -> Callable[..., SettledCalls]:
    def run_once(now: datetime, dialer: Dialer | None = None) -> SettledCalls:
        session.flush()
        ctx = JobContext(settings, dialer or LoggingDialer())
        result = JOBS["settle-calls"].run(sessions, ctx, now)
        session.expire_all()
        return result

    return run_once


@pytest.fixture
def ann(session: Session) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    session.commit()


def the_call(session: Session) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.sid == SID)).one()


def legs_of_the_call(session: Session) -> list[CallLeg]:
    return sorted(the_call(session).legs, key=lambda leg: leg.id)


@pytest.mark.usefixtures("ann")
def test_a_long_conversation_is_not_settled_while_twilio_is_out_of_reach(
    client: FlaskClient,
    session: Session,
    clock: Clock,
    run: Callable[..., SettledCalls],
    twilio: responses.RequestsMock,
) -> None:
    leg = answered_call(client, session)
    start = clock()
    dialer = TwilioDialer(ACCOUNT, "token")
    clock.advance(minutes=100)  # a long conversation, and Twilio cannot be reached
    for sid in (SID, leg_sid(leg)):
        twilio.get(f"{API}/Calls/{sid}.json", body=requests.ConnectionError("unreachable"))

    result = run(clock(), dialer)

    assert (result.calls, result.legs) == (0, 0)
    assert [leg.state for leg in legs_of_the_call(session)] == ["accepted"]
    assert the_call(session).ended_at is None
    assert not rings(client, 2, ANN)  # Ann is still talking

    # Twilio answers at the next run: the call is settled from its word.
    twilio.reset()
    ended = start + timedelta(minutes=104)
    twilio.get(
        f"{API}/Calls/{leg_sid(leg)}.json", json=twilio_call(leg_sid(leg), "completed", ended, 6200)
    )
    twilio.get(f"{API}/Calls/{SID}.json", json=twilio_call(SID, "completed", ended, 6240))
    clock.advance(minutes=5)

    assert run(clock(), dialer) == SettledCalls(
        checked=1, calls=1, legs=1, unknown=0, unreachable=0
    )
    call = the_call(session)
    assert (call.status, call.ended_at, call.duration_s, call.outcome) == (
        "completed",
        ended,
        6240,
        "answered",
    )
    assert [(leg.state, leg.ended_at) for leg in call.legs] == [("completed", ended)]


@pytest.mark.usefixtures("ann")
def test_twilios_final_status_after_settling_as_unknown_corrects_the_call(
    client: FlaskClient, session: Session, clock: Clock, run: Callable[..., SettledCalls]
) -> None:
    answered_call(client, session)
    clock.advance(minutes=100)
    result = run(clock())
    assert (result.unknown, result.unreachable) == (2, 0)  # no credentials: Twilio cannot say
    clock.advance(minutes=20)
    final = {
        "CallSid": SID,
        "CallStatus": "completed",
        "SequenceNumber": "3",
        "CallDuration": "7200",
    }

    post(client, "/voice/status", final)

    call = the_call(session)
    assert (call.status, call.ended_at, call.duration_s, call.outcome) == (
        "completed",
        clock(),
        7200,
        "answered",
    )
    assert [(leg.state, leg.ended_at) for leg in call.legs] == [("completed", clock())]
    # A repeat of the same status changes nothing more.
    clock.advance(minutes=1)
    post(client, "/voice/status", final)
    assert the_call(session).ended_at == clock() - timedelta(minutes=1)


@pytest.mark.usefixtures("ann")
def test_the_legs_own_final_status_after_settling_as_unknown_corrects_the_leg(
    client: FlaskClient, session: Session, clock: Clock, run: Callable[..., SettledCalls]
) -> None:
    leg = answered_call(client, session)
    clock.advance(minutes=100)
    run(clock())
    clock.advance(minutes=10)

    post(
        client,
        f"/voice/leg-status?leg={leg}",
        {
            "CallSid": leg_sid(leg),
            "ParentCallSid": SID,
            "CallStatus": "completed",
            "SequenceNumber": "4",
        },
    )

    assert [(leg.state, leg.ended_at) for leg in legs_of_the_call(session)] == [
        ("completed", clock())
    ]


def test_a_correction_keeps_what_really_happened(
    client: FlaskClient, session: Session, clock: Clock, run: Callable[..., SettledCalls]
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Bea Bell", BEA, "herefordshire", MONDAY)
    session.commit()
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    first = session.scalars(select(CallLeg)).one()
    session.commit()
    params = {"CallSid": leg_sid(first.id), "ParentCallSid": SID}
    post(client, f"/voice/screen?leg={first.id}", params)
    post(client, f"/voice/screen-answer?leg={first.id}", {**params, "Digits": "9"})
    dial = {"CallSid": SID, "DialCallStatus": "completed", "CallStatus": "in-progress"}
    post(client, f"/voice/dial-result?leg={first.id}", dial)
    second = max(leg.id for leg in legs_of_the_call(session))
    session.commit()
    accept(client, second)
    clock.advance(minutes=100)
    run(clock())
    clock.advance(minutes=5)

    post(
        client, "/voice/status", {"CallSid": SID, "CallStatus": "completed", "CallDuration": "6300"}
    )

    legs = legs_of_the_call(session)
    assert [leg.state for leg in legs] == ["declined", "completed"]
    assert legs[0].ended_at == datetime(2026, 11, 30, 10, 0, tzinfo=clock().tzinfo)
    call = the_call(session)
    assert (call.outcome, call.answered_office, call.duration_s) == (
        "answered",
        "herefordshire",
        6300,
    )
