"""Calling a parent back, end to end: the service rings the adviser, who presses 1, then the parent.

Twilio's REST API is mocked with `responses`; Twilio's webhooks are played through the Flask
app, signed as Twilio signs them. Each test runs on every database backend in conftest.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from callbacks import attempts, calling_back, common, filing, staff_actions
from callbacks.models import Attempt
from callbacks.report import list_callbacks
from helpline.app import create_app, make_runtime
from helpline.dialer import Dialer, LoggingDialer
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.constants import (
    ACCOUNT,
    ANN,
    BASE_URL,
    CALLS_URL,
    HEREFORD,
    MONDAY,
    PARENT,
    TOKEN,
    WORCS,
)
from tests.factories import Clock, adviser, make_settings, signed_post
from webhooks.callback_voice import attempt_webhooks
from webhooks.twilio_dialer import TwilioDialer

ADVISER_NAME = "Alex Adams"
CALL_SID = "CA" + "c" * 32


def call_back(
    runtime: Runtime, callback_id: int, actor: str, adviser_name: str | None = None
) -> calling_back.CallBackResult:
    """Call back as `helpline callbacks call` does, pointing Twilio at the voice webhooks."""
    return calling_back.call_back(runtime, callback_id, actor, adviser_name, urls=attempt_webhooks)


def build_runtime(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, dialer: Dialer
) -> Runtime:
    """A runtime on the test's database, clock and dialer."""
    return make_runtime(settings, sessions=sessions, clock=clock, dialer=dialer)


@dataclass
class World:
    """A runtime with an adviser on shift and an assigned callback, all committed."""

    runtime: Runtime
    client: FlaskClient
    callback_id: int
    adviser_id: int

    def post(self, path: str, params: dict[str, str] | None = None) -> TestResponse:
        return signed_post(self.client, path, params or {})

    def attempt(self, attempt_id: int) -> Attempt:
        with self.runtime.sessions() as s:
            found = s.get_one(Attempt, attempt_id)
            s.expunge(found)
            return found

    def listed(self) -> dict[str, Any]:
        with self.runtime.sessions() as s:
            rows = list_callbacks(s, self.runtime.clock())
        (row,) = [r for r in rows if r["id"] == self.callback_id]
        return row


def make_world(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    dialer: Dialer | None,
    office: str = "herefordshire",
) -> World:
    """Seed the data; `dialer=None` leaves wiring the dialer to `make_runtime` itself."""
    person = adviser(session, ADVISER_NAME, ANN, "herefordshire", MONDAY)
    callback, created = filing.callback_for(session, settings, PARENT, office, clock())
    assert created
    staff_actions.assign(session, callback, person, "tester", clock())
    session.commit()
    if dialer is None:
        runtime = make_runtime(settings, sessions=sessions, clock=clock)
    else:
        runtime = build_runtime(settings, sessions, clock, dialer)
    client = create_app(runtime).test_client()
    return World(runtime, client, callback.id, person.id)


@pytest.fixture
def world(
    session: Session, sessions: sessionmaker[Session], settings: Settings, clock: Clock
) -> World:
    return make_world(session, sessions, settings, clock, TwilioDialer(ACCOUNT, TOKEN))


def accept_calls(rs: responses.RequestsMock, sid: str = CALL_SID) -> None:
    rs.add(
        responses.POST,
        CALLS_URL,
        status=201,
        json={
            "sid": sid,
            "account_sid": ACCOUNT,
            "to": ANN,
            "from": HEREFORD,
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 30 Nov 2026 10:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
        },
    )


def form(request: Any) -> dict[str, list[str]]:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return parse_qs(body or "", keep_blank_values=True)


def xml(response: TestResponse) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


def spoken(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def placed_attempt(world: World, rs: responses.RequestsMock) -> int:
    """Press "call back" with Twilio accepting the call; the attempt's id."""
    accept_calls(rs)
    result = call_back(world.runtime, world.callback_id, "tester")
    assert result.placed
    return result.attempt_id


def adviser_leg(attempt_id: int, status: str = "in-progress") -> dict[str, str]:
    """What Twilio posts about the service's call to the adviser."""
    return {
        "AccountSid": ACCOUNT,
        "CallSid": CALL_SID,
        "From": HEREFORD,
        "To": ANN,
        "CallStatus": status,
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }


# Placing the call.


@pytest.mark.parametrize(
    ("office", "helpline", "county"),
    [("herefordshire", HEREFORD, "Herefordshire"), ("worcestershire", WORCS, "Worcestershire")],
)
def test_call_back_rings_the_adviser_from_the_county_helpline_number(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    twilio: responses.RequestsMock,
    office: str,
    helpline: str,
    county: str,
) -> None:
    world = make_world(
        session, sessions, settings, clock, TwilioDialer(ACCOUNT, TOKEN), office=office
    )
    accept_calls(twilio)

    result = call_back(world.runtime, world.callback_id, "tester")

    assert result.placed is True
    assert "not placed" not in result.message.lower()
    (sent,) = [c.request for c in twilio.calls]
    assert sent.method == "POST"
    assert sent.url == CALLS_URL
    assert sent.headers["Authorization"].startswith("Basic ")
    fields = form(sent)
    assert fields["To"] == [ANN]
    assert fields["From"] == [helpline]  # the county's number: never the adviser's or parent's
    assert fields["Url"] == [f"{BASE_URL}/voice/callback/adviser?attempt={result.attempt_id}"]
    assert fields["StatusCallback"] == [
        f"{BASE_URL}/voice/callback/status?attempt={result.attempt_id}"
    ]
    assert PARENT not in str(fields)  # the parent's number is only in the TwiML, later

    attempt = world.attempt(result.attempt_id)
    assert attempt.placed is True
    assert attempt.call_sid == CALL_SID
    assert attempt.adviser_id == world.adviser_id
    assert attempt.outcome is None

    # The adviser answers and hears which county the call back is for.
    root = xml(
        world.post(
            f"/voice/callback/adviser?attempt={result.attempt_id}", adviser_leg(result.attempt_id)
        )
    )
    assert county in spoken(root)

    # Pressing 1 dials the parent, showing the same county number.
    root = xml(
        world.post(
            f"/voice/callback/connect?attempt={result.attempt_id}",
            {**adviser_leg(result.attempt_id), "Digits": "1"},
        )
    )
    (dial,) = root.iter("Dial")
    assert dial.get("callerId") == helpline


def test_the_adviser_hears_the_county_and_press_1(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)

    root = xml(world.post(f"/voice/callback/adviser?attempt={attempt_id}", adviser_leg(attempt_id)))

    gathers = list(root.iter("Gather"))
    assert len(gathers) == 1
    gather = gathers[0]
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{BASE_URL}/voice/callback/connect?attempt={attempt_id}"
    prompt = spoken(gather)
    assert "Herefordshire" in prompt
    assert "Press 1" in prompt
    assert PARENT not in ET.tostring(root, encoding="unicode")
    # Pressing nothing is not a dead end: the call ends after the prompt.
    assert [child.tag for child in root][-1] == "Hangup"
    assert not list(root.iter("Dial"))


def test_pressing_1_dials_the_parent_from_the_helpline_number(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)

    root = xml(
        world.post(
            f"/voice/callback/connect?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "Digits": "1"},
        )
    )

    dials = list(root.iter("Dial"))
    assert len(dials) == 1
    dial = dials[0]
    assert dial.get("callerId") == HEREFORD
    assert dial.get("action") == f"{BASE_URL}/voice/callback/dialled?attempt={attempt_id}"
    numbers = [n.text for n in dial.iter("Number")]
    assert numbers == [PARENT]
    assert ANN not in ET.tostring(root, encoding="unicode")


@pytest.mark.parametrize("digits", ["2", "", None, "*", "11"])
def test_anything_but_1_hangs_up_and_dials_nobody(
    world: World, twilio: responses.RequestsMock, digits: str | None
) -> None:
    attempt_id = placed_attempt(world, twilio)
    params = adviser_leg(attempt_id)
    if digits is not None:
        params["Digits"] = digits

    root = xml(world.post(f"/voice/callback/connect?attempt={attempt_id}", params))

    assert not list(root.iter("Dial"))
    assert not list(root.iter("Number"))
    assert list(root.iter("Hangup"))
    assert PARENT not in ET.tostring(root, encoding="unicode")
    listed = world.listed()
    assert listed["attempts"] == 0
    assert listed["status"] == "assigned"


# The parent's leg.


def test_parent_not_answering_counts_one_attempt_and_schedules_a_retry(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    xml(
        world.post(
            f"/voice/callback/connect?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "Digits": "1"},
        )
    )

    root = xml(
        world.post(
            f"/voice/callback/dialled?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "DialCallStatus": "no-answer", "DialCallDuration": "0"},
        )
    )

    assert list(root.iter("Hangup"))
    attempt = world.attempt(attempt_id)
    assert attempt.outcome == "no-answer"
    assert attempt.parent_status == "no-answer"
    listed = world.listed()
    assert listed["attempts"] == 1
    assert listed["next_attempt_at"] is not None
    assert listed["status"] == "open"
    assert listed["assigned_to"] is None

    # Twilio repeats the webhook, then reports the adviser's leg complete: still one attempt.
    xml(
        world.post(
            f"/voice/callback/dialled?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "DialCallStatus": "no-answer", "DialCallDuration": "0"},
        )
    )
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))
    listed = world.listed()
    assert listed["attempts"] == 1
    assert listed["status"] == "open"
    assert world.attempt(attempt_id).outcome == "no-answer"


def test_a_conversation_waits_for_the_adviser_to_record_the_outcome(
    world: World, twilio: responses.RequestsMock, sessions: sessionmaker[Session]
) -> None:
    attempt_id = placed_attempt(world, twilio)
    xml(
        world.post(
            f"/voice/callback/connect?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "Digits": "1"},
        )
    )

    xml(
        world.post(
            f"/voice/callback/dialled?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "DialCallStatus": "completed", "DialCallDuration": "312"},
        )
    )
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))

    attempt = world.attempt(attempt_id)
    assert attempt.outcome is None
    assert attempt.parent_status == "completed"
    assert attempt.parent_seconds == 312
    listed = world.listed()
    assert listed["attempts"] == 0
    assert listed["status"] == "assigned"
    assert listed["next_attempt_at"] is None

    with sessions() as s:
        callback = common.get(s, world.callback_id)
        status = attempts.record_outcome(
            s, world.runtime.settings, callback, "spoke", ADVISER_NAME, world.runtime.clock()
        )
        s.commit()
    assert status == "completed"
    assert world.attempt(attempt_id).outcome == "spoke"
    listed = world.listed()
    assert listed["status"] == "completed"
    assert listed["attempts"] == 1
    assert listed["next_attempt_at"] is None


@pytest.mark.parametrize("adviser_status", ["no-answer", "busy", "failed", "canceled"])
def test_an_adviser_who_never_answers_ends_the_attempt_without_counting_it(
    world: World, twilio: responses.RequestsMock, adviser_status: str
) -> None:
    attempt_id = placed_attempt(world, twilio)

    response = world.post(
        f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, adviser_status)
    )

    assert 200 <= response.status_code < 300
    attempt = world.attempt(attempt_id)
    assert attempt.ended_at is not None
    assert attempt.adviser_status == adviser_status
    assert attempt.parent_status is None
    assert attempt.outcome not in ("spoke", "left-message", "no-answer", "wrong-number")
    listed = world.listed()
    assert listed["attempts"] == 0
    assert listed["status"] == "assigned"
    assert listed["next_attempt_at"] is None


def test_webhooks_for_a_callback_attempt_must_be_signed(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)

    forged = world.client.post(
        f"/voice/callback/dialled?attempt={attempt_id}",
        data={**adviser_leg(attempt_id), "DialCallStatus": "no-answer"},
        headers={"X-Twilio-Signature": "forged"},
    )

    assert forged.status_code == 403
    assert world.attempt(attempt_id).outcome is None
    assert world.listed()["attempts"] == 0


# Without Twilio, and when Twilio says no.


def test_without_credentials_the_call_is_not_placed_and_nothing_is_sent(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    twilio: responses.RequestsMock,
) -> None:
    world = make_world(session, sessions, settings, clock, LoggingDialer())

    result = call_back(world.runtime, world.callback_id, "tester")

    assert result.placed is False
    assert "not placed" in result.message.lower()
    assert PARENT not in result.message
    assert ANN not in result.message
    assert len(twilio.calls) == 0
    attempt = world.attempt(result.attempt_id)
    assert attempt.placed is False
    assert attempt.call_sid is None
    assert world.listed()["attempts"] == 0


@pytest.mark.parametrize(
    ("env", "places_calls"), [({}, False), ({"TWILIO_ACCOUNT_SID": ACCOUNT}, True)]
)
def test_make_runtime_wires_a_dialer_from_the_settings(
    sessions: sessionmaker[Session], clock: Clock, env: dict[str, str], places_calls: bool
) -> None:
    runtime = make_runtime(make_settings(**env), sessions=sessions, clock=clock)

    assert runtime.dialer.places_calls is places_calls


def test_without_credentials_the_default_runtime_says_not_placed(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    twilio: responses.RequestsMock,
) -> None:
    assert not settings.twilio_configured  # the test settings have no account SID
    world = make_world(session, sessions, settings, clock, None)

    result = call_back(world.runtime, world.callback_id, "tester")

    assert result.placed is False
    assert "not placed" in result.message.lower()
    assert len(twilio.calls) == 0


def test_without_credentials_the_log_says_the_call_was_not_placed(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = make_world(session, sessions, settings, clock, LoggingDialer())
    caplog.set_level(logging.INFO)

    call_back(world.runtime, world.callback_id, "tester")

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "not placed" in text
    assert PARENT not in text
    assert ANN not in text


def test_a_refused_call_raises_and_is_recorded_as_not_placed_and_not_counted(
    world: World, twilio: responses.RequestsMock
) -> None:
    twilio.add(
        responses.POST,
        CALLS_URL,
        status=400,
        json={
            "code": 21211,
            "message": f"Invalid 'To' Phone Number: {ANN}",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )

    with pytest.raises(common.CallbackError) as raised:
        call_back(world.runtime, world.callback_id, "tester")

    assert "21211" in str(raised.value)
    assert ANN not in str(raised.value)
    assert PARENT not in str(raised.value)
    assert len(twilio.calls) == 1
    with world.runtime.sessions() as s:
        (attempt,) = common.get(s, world.callback_id).attempts
        assert attempt.outcome == "not-placed"
        assert attempt.placed is False
        assert attempt.ended_at is not None
        assert attempt.call_sid is None
    listed = world.listed()
    assert listed["attempts"] == 0
    assert listed["status"] == "assigned"
    assert listed["next_attempt_at"] is None

    # The adviser can simply try again once Twilio accepts the call.
    accept_calls(twilio)
    again = call_back(world.runtime, world.callback_id, "tester")
    assert again.placed is True
    assert again.attempt_id != attempt.id


def test_twilio_out_of_reach_is_a_callback_error_and_the_attempt_is_not_placed(
    world: World, twilio: responses.RequestsMock
) -> None:
    twilio.add(responses.POST, CALLS_URL, body=requests.ConnectionError("connection refused"))

    with pytest.raises(common.CallbackError):
        call_back(world.runtime, world.callback_id, "tester")

    with world.runtime.sessions() as s:
        (attempt,) = common.get(s, world.callback_id).attempts
        assert attempt.outcome == "not-placed"


# Two staff at once.


@pytest.mark.parametrize("second_action", ["close", "no-answer"])
def test_two_staff_at_once_the_second_is_told_and_the_first_stands(
    world: World, sessions: sessionmaker[Session], clock: Clock, second_action: str
) -> None:
    settings = world.runtime.settings
    first, second = sessions(), sessions()
    try:
        mine = common.get(first, world.callback_id)
        theirs = common.get(second, world.callback_id)
        assert mine.status == theirs.status == "assigned"
        # The second has read the callback (its page is open); its read transaction ends, as a
        # web request's would, and it keeps what it read. Ending it here also keeps the test's
        # savepoints (one connection) released in order.
        second.commit()

        assert attempts.record_outcome(first, settings, mine, "spoke", "Alex", clock()) == (
            "completed"
        )
        first.commit()

        with pytest.raises(common.CallbackError) as raised:
            if second_action == "close":
                staff_actions.close(second, theirs, "duplicate", "Sam", clock())
            else:
                attempts.record_outcome(second, settings, theirs, "no-answer", "Sam", clock())
        second.rollback()
        assert isinstance(raised.value, common.Conflict) or "already" in str(raised.value)
    finally:
        second.close()
        first.close()

    listed = world.listed()
    assert listed["status"] == "completed"
    assert listed["attempts"] == 1
    assert listed["next_attempt_at"] is None
    with sessions() as s:
        callback = common.get(s, world.callback_id)
        assert callback.close_reason is None
        assert [a.outcome for a in callback.attempts] == ["spoke"]


def test_a_second_action_after_the_first_committed_is_told_it_is_closed(
    world: World, sessions: sessionmaker[Session], clock: Clock
) -> None:
    settings = world.runtime.settings
    with sessions() as s:
        attempts.record_outcome(
            s, settings, common.get(s, world.callback_id), "spoke", "A", clock()
        )
        s.commit()

    with sessions() as s:
        with pytest.raises(common.CallbackError, match="already completed"):
            staff_actions.close(s, common.get(s, world.callback_id), "duplicate", "Sam", clock())
        s.rollback()

    assert world.listed()["status"] == "completed"


def test_the_adviser_leg_of_a_closed_callback_dials_nobody(
    world: World, twilio: responses.RequestsMock, sessions: sessionmaker[Session], clock: Clock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    with sessions() as s:
        staff_actions.close(
            s, common.get(s, world.callback_id), "parent rang again", "duty", clock()
        )
        s.commit()

    adviser_root = xml(
        world.post(f"/voice/callback/adviser?attempt={attempt_id}", adviser_leg(attempt_id))
    )
    connect_root = xml(
        world.post(
            f"/voice/callback/connect?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "Digits": "1"},
        )
    )

    assert not list(adviser_root.iter("Gather"))
    assert not list(connect_root.iter("Dial"))
    assert world.listed()["status"] == "cancelled"


def test_a_second_call_back_while_the_first_is_ringing_is_refused(
    world: World, twilio: responses.RequestsMock
) -> None:
    first = placed_attempt(world, twilio)
    with pytest.raises(common.Conflict, match="being called back now"):
        call_back(world.runtime, world.callback_id, "another adviser")
    assert len([c for c in twilio.calls if c.request.method == "POST"]) == 1
    # Once the first attempt has its outcome, a new one may start.
    world.post(f"/voice/callback/connect?attempt={first}", {"Digits": "1"})
    world.post(f"/voice/callback/dialled?attempt={first}", {"DialCallStatus": "no-answer"})
    world.runtime.clock.advance(hours=3)  # type: ignore[attr-defined]
    accept_calls(twilio, "CA" + "d" * 32)
    assert call_back(world.runtime, world.callback_id, "tester", ADVISER_NAME).placed


def test_only_the_latest_attempt_can_dial_the_parent(
    world: World, twilio: responses.RequestsMock
) -> None:
    first = placed_attempt(world, twilio)
    # Twilio never says anything about the first attempt; after half an hour it is given up.
    world.runtime.clock.advance(minutes=31)  # type: ignore[attr-defined]
    accept_calls(twilio, "CA" + "e" * 32)
    second = call_back(world.runtime, world.callback_id, "tester").attempt_id
    assert world.attempt(first).outcome is None
    late = xml(world.post(f"/voice/callback/connect?attempt={first}", {"Digits": "1"}))
    assert late.find("Dial") is None
    fresh = xml(world.post(f"/voice/callback/connect?attempt={second}", {"Digits": "1"}))
    assert fresh.find("Dial") is not None


def test_the_advisers_completed_status_arriving_before_dialled_is_not_a_missed_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    world.post(f"/voice/callback/connect?attempt={attempt_id}", {"Digits": "1"})
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))
    world.post(
        f"/voice/callback/dialled?attempt={attempt_id}",
        {"DialCallStatus": "completed", "DialCallDuration": "300"},
    )
    assert world.attempt(attempt_id).outcome is None  # waiting for the adviser's word
    with world.runtime.sessions() as s:
        callback = common.get(s, world.callback_id)
        attempts.record_outcome(
            s, world.runtime.settings, callback, "spoke", "tester", world.runtime.clock()
        )
        s.commit()
    listed = world.listed()
    assert (listed["status"], listed["attempts"]) == ("completed", 1)


def test_an_adviser_hanging_up_before_the_parent_answers_costs_the_parent_no_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    world.post(f"/voice/callback/connect?attempt={attempt_id}", {"Digits": "1"})
    world.post(f"/voice/callback/dialled?attempt={attempt_id}", {"DialCallStatus": "canceled"})
    listed = world.listed()
    assert (listed["status"], listed["attempts"], listed["next_attempt_at"]) == (
        "assigned",
        0,
        None,
    )


def test_a_long_call_back_conversation_keeps_the_adviser_busy_and_the_callback_taken(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id))
    world.post(f"/voice/callback/connect?attempt={attempt_id}", {"Digits": "1"})
    world.runtime.clock.advance(minutes=45)  # type: ignore[attr-defined]
    with pytest.raises(common.Conflict, match="being called back now"):
        call_back(world.runtime, world.callback_id, "a colleague")
    with world.runtime.sessions() as s:
        assert world.adviser_id in attempts.advisers_calling_back(s, world.runtime.clock())
    world.post(
        f"/voice/callback/dialled?attempt={attempt_id}",
        {"DialCallStatus": "completed", "DialCallDuration": "2700"},
    )
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))
    with world.runtime.sessions() as s:
        assert world.adviser_id not in attempts.advisers_calling_back(s, world.runtime.clock())


def test_the_advisers_own_voicemail_answering_a_call_back_is_a_missed_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id))
    # The voicemail hears the prompt, presses nothing; the service hangs up; Twilio: completed.
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))
    assert world.attempt(attempt_id).outcome == "adviser-missed"
    assert world.listed()["attempts"] == 0


# The adviser's word after an automatic outcome.


def parent_does_not_answer(world: World, attempt_id: int) -> None:
    """The adviser presses 1; the parent's phone rings out; Twilio reports both legs."""
    world.post(f"/voice/callback/connect?attempt={attempt_id}", {"Digits": "1"})
    world.post(
        f"/voice/callback/dialled?attempt={attempt_id}",
        {"DialCallStatus": "no-answer", "DialCallDuration": "0"},
    )
    world.post(f"/voice/callback/status?attempt={attempt_id}", adviser_leg(attempt_id, "completed"))


def adviser_says(world: World, outcome: str) -> str:
    """`helpline callbacks outcome ID OUTCOME`, as the adviser runs it."""
    with world.runtime.sessions() as s:
        status = attempts.record_outcome(
            s,
            world.runtime.settings,
            common.get(s, world.callback_id),
            outcome,
            ADVISER_NAME,
            world.runtime.clock(),
        )
        s.commit()
    return status


def outcomes(world: World) -> list[str | None]:
    with world.runtime.sessions() as s:
        return [a.outcome for a in common.get(s, world.callback_id).attempts]


def test_the_advisers_spoke_after_an_automatic_no_answer_replaces_it(
    world: World, twilio: responses.RequestsMock
) -> None:
    # Twilio said the parent did not answer, but the adviser did speak to them (the parent
    # rang straight back on the same call, say): the adviser knows better.
    attempt_id = placed_attempt(world, twilio)
    parent_does_not_answer(world, attempt_id)
    retrying = world.listed()
    assert (retrying["status"], retrying["attempts"]) == ("open", 1)
    assert retrying["next_attempt_at"] is not None
    world.runtime.clock.advance(minutes=2)  # type: ignore[attr-defined]

    assert adviser_says(world, "spoke") == "completed"

    listed = world.listed()
    assert (listed["status"], listed["attempts"], listed["next_attempt_at"]) == (
        "completed",
        1,
        None,
    )
    assert listed["assigned_to"] == ADVISER_NAME
    assert outcomes(world) == ["spoke"]


def test_the_advisers_left_message_after_an_automatic_no_answer_counts_one_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    parent_does_not_answer(world, attempt_id)
    retry_at = world.listed()["next_attempt_at"]

    assert adviser_says(world, "left-message") == "open"

    listed = world.listed()
    assert (listed["status"], listed["attempts"], listed["next_attempt_at"]) == (
        "open",
        1,
        retry_at,
    )
    assert outcomes(world) == ["left-message"]


def test_the_advisers_word_on_a_last_attempt_closed_automatically_replaces_it(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    twilio: responses.RequestsMock,
) -> None:
    one_try = replace(settings, callbacks=replace(settings.callbacks, max_attempts=1))
    world = make_world(session, sessions, one_try, clock, TwilioDialer(ACCOUNT, TOKEN))
    attempt_id = placed_attempt(world, twilio)
    parent_does_not_answer(world, attempt_id)
    assert world.listed()["status"] == "unreachable"

    assert adviser_says(world, "spoke") == "completed"

    listed = world.listed()
    assert (listed["status"], listed["attempts"]) == ("completed", 1)
    assert outcomes(world) == ["spoke"]


def test_once_the_retry_has_started_the_advisers_word_is_about_the_new_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    first = placed_attempt(world, twilio)
    parent_does_not_answer(world, first)
    world.runtime.clock.advance(hours=3)  # type: ignore[attr-defined]
    accept_calls(twilio, "CA" + "f" * 32)
    second = call_back(world.runtime, world.callback_id, "tester", ADVISER_NAME)
    assert second.placed

    assert adviser_says(world, "spoke") == "completed"

    assert outcomes(world) == ["no-answer", "spoke"]
    assert world.listed()["attempts"] == 2


def test_the_advisers_further_word_before_the_retry_corrects_the_same_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    parent_does_not_answer(world, attempt_id)

    assert adviser_says(world, "no-answer") == "open"
    assert world.listed()["attempts"] == 1
    # No call can have been made while the retry waits: the word corrects the one attempt.
    assert adviser_says(world, "left-message") == "open"

    assert outcomes(world) == ["left-message"]
    assert world.listed()["attempts"] == 1


def test_once_the_retry_is_due_the_advisers_word_is_a_further_attempt(
    world: World, twilio: responses.RequestsMock
) -> None:
    attempt_id = placed_attempt(world, twilio)
    parent_does_not_answer(world, attempt_id)
    assert adviser_says(world, "no-answer") == "open"
    world.runtime.clock.advance(hours=3)  # type: ignore[attr-defined]

    # A try made by hand, off the system, once the retry was due.
    assert adviser_says(world, "left-message") == "open"

    assert outcomes(world) == ["no-answer", "left-message"]
    assert world.listed()["attempts"] == 2


def test_a_call_back_for_an_office_since_removed_still_reaches_the_parent(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
    twilio: responses.RequestsMock,
) -> None:
    # Filed for an office that the configuration no longer has.
    world = make_world(
        session, sessions, settings, clock, TwilioDialer(ACCOUNT, TOKEN), office="leominster"
    )
    attempt_id = placed_attempt(world, twilio)

    root = xml(world.post(f"/voice/callback/adviser?attempt={attempt_id}", adviser_leg(attempt_id)))

    [gather] = root.iter("Gather")
    assert "Call back for the helpline. Press 1" in spoken(gather)
    root = xml(
        world.post(
            f"/voice/callback/connect?attempt={attempt_id}",
            {**adviser_leg(attempt_id), "Digits": "1"},
        )
    )
    (dial,) = root.iter("Dial")
    assert dial.get("callerId") == HEREFORD  # the first office's helpline number
