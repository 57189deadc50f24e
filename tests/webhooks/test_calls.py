"""Whole calls played through the signed voice webhooks, as Twilio and the people would."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callbacks.models import Message
from calls.models import Call, CallEvent, CallLeg
from calls.report import recent_calls
from helpline.settings import Settings
from helpline.simulation.simulator import CallPlayer, FlaskTransport, Result, Script
from rota.service import close_office
from tests.constants import (
    ANN,
    BASE_URL,
    BEN,
    CAT,
    HEREFORD,
    MONDAY,
    OTHER_PARENT,
    PARENT,
    TOKEN,
    WORCS,
    parent,
)
from tests.factories import Clock, adviser, signed_post


@pytest.fixture
def team(session: Session) -> None:
    """Two Herefordshire advisers and one Worcestershire adviser on shift on Monday."""
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    session.commit()


def play(app: Flask, script: Script) -> Result:
    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(script)
    assert result.errors == []
    return result


def stored(session: Session, result: Result) -> Call:
    session.expire_all()
    return session.scalars(select(Call).where(Call.sid == result.call_sid)).one()


def rung(result: Result) -> list[str]:
    return [s.text.split()[2] for s in result.steps if s.text.startswith("rings adviser")]


@pytest.mark.usefixtures("team")
def test_call_in_hours_is_answered_by_the_rung_county(app: Flask, session: Session) -> None:
    result = play(app, Script(caller=PARENT, to=HEREFORD, advisers={ANN: "accept"}))
    assert "Herefordshire" in result.heard()[0]
    assert "Herefordshire helpline call. Press 1 to accept." in result.heard("adviser")
    call = stored(session, result)
    assert (call.outcome, call.answered_by.name if call.answered_by else None) == (
        "answered",
        "Ann Ash",
    )
    assert call.from_number == PARENT and call.status == "completed"


@pytest.mark.usefixtures("team")
def test_advisers_phone_showing_helpline_number_never_the_parents(app: Flask) -> None:
    result = play(app, Script(caller=PARENT, to=HEREFORD, advisers={ANN: "accept"}))
    ring = next(s.text for s in result.steps if s.text.startswith("rings adviser"))
    assert f"caller ID {HEREFORD}" in ring and PARENT not in ring


@pytest.mark.usefixtures("team")
def test_voicemail_on_one_phone_does_not_stop_a_colleague_taking_the_call(
    app: Flask, session: Session
) -> None:
    result = play(
        app, Script(caller=PARENT, to=HEREFORD, advisers={ANN: "voicemail", BEN: "accept"})
    )
    assert rung(result) == [ANN, BEN]
    call = stored(session, result)
    assert call.outcome == "answered" and call.answered_by is not None
    assert call.answered_by.name == "Ben Birch"
    states = [leg.state for leg in call.legs]
    assert states == ["no-answer", "completed"]


@pytest.mark.usefixtures("team")
def test_nobody_in_the_county_answers_so_the_partner_county_helps(
    app: Flask, session: Session
) -> None:
    result = play(
        app,
        Script(
            caller=PARENT, to=HEREFORD, advisers={ANN: "no-answer", BEN: "decline", CAT: "accept"}
        ),
    )
    assert rung(result) == [ANN, BEN, CAT]
    assert "Herefordshire helpline call. Press 1 to accept." in result.heard("adviser")
    assert (
        "Thank you for waiting. We are now trying our advisers in Worcestershire." in result.heard()
    )
    call = stored(session, result)
    assert call.outcome == "answered_by_partner" and call.answered_office == "worcestershire"


@pytest.mark.usefixtures("team")
def test_closed_office_sends_its_calls_to_the_partner(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    close_office(session, settings, "herefordshire", clock(), reason="training")
    session.commit()
    result = play(app, Script(caller=PARENT, to=HEREFORD, advisers={CAT: "accept"}))
    assert rung(result) == [CAT]
    assert stored(session, result).outcome == "answered_by_partner"


@pytest.mark.usefixtures("team")
def test_both_offices_closed_caller_leaves_a_message(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(datetime(2026, 12, 5, 14, 0, tzinfo=UTC))  # Saturday
    result = play(app, Script(caller=PARENT, to=WORCS, message_seconds=35))
    assert rung(result) == []
    heard = " ".join(result.heard())
    assert "closed" in heard and "Monday to Thursday from 9am to 5pm" in heard
    assert "within 2 working days" in heard and "0 8 0 8, 8 0 8, 3 5 5 5" in heard
    call = stored(session, result)
    assert call.outcome == "voicemail"
    message = session.scalars(select(Message).where(Message.call_sid == call.sid)).one()
    assert (message.duration_s, message.phone, message.office) == (35, PARENT, "worcestershire")
    listed = recent_calls(session)[0]
    assert listed["outcome"] == "voicemail" and listed["from"] == PARENT
    assert listed["office"] == "worcestershire" and listed["started_at"].endswith("+00:00")


@pytest.mark.usefixtures("team")
def test_nobody_accepts_and_caller_hangs_up_before_the_beep_is_a_missed_call(
    app: Flask, session: Session
) -> None:
    result = play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=0))
    assert rung(result) == [ANN, BEN, CAT]
    assert "none of our advisers can take your call" in " ".join(result.heard())
    assert stored(session, result).outcome == "missed"


def test_withheld_number_is_kept_as_no_number(app: Flask, session: Session, clock: Clock) -> None:
    clock.set(datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    result = play(app, Script(caller=None, to=HEREFORD, message_seconds=10))
    call = stored(session, result)
    assert call.from_number is None and call.outcome == "voicemail"
    assert recent_calls(session)[0]["from"] is None


@pytest.mark.usefixtures("team")
def test_adviser_on_a_call_is_not_rung_until_it_ends(
    app: Flask, session: Session, clock: Clock
) -> None:
    # Ann accepts a first call, which is still going on (no status callback yet).
    player = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL)

    client = app.test_client()
    first = {"CallSid": "CA" + "1" * 32, "From": PARENT, "To": HEREFORD, "CallStatus": "ringing"}
    twiml = signed_post(client, "/voice/incoming", first)
    assert ANN in twiml.get_data(as_text=True)
    leg = session.scalars(select(CallLeg)).one()
    signed_post(client, f"/voice/screen?leg={leg.id}", {"CallSid": "CA" + "2" * 32})
    signed_post(
        client, f"/voice/screen-answer?leg={leg.id}", {"CallSid": "CA" + "2" * 32, "Digits": "1"}
    )
    clock.advance(minutes=5)
    second = player.play(Script(caller=OTHER_PARENT, to=HEREFORD, advisers={BEN: "accept"}))
    assert ANN not in rung(second) and rung(second)[0] == BEN
    # The first call ends; Ann can be rung again.
    signed_post(
        client,
        f"/voice/dial-result?leg={leg.id}",
        {"CallSid": first["CallSid"], "DialCallStatus": "completed", "DialCallDuration": "300"},
    )
    clock.advance(minutes=30)
    third = player.play(Script(caller=parent(25), to=HEREFORD, advisers={ANN: "accept"}))
    assert ANN in rung(third)


def test_no_adviser_on_shift_goes_straight_to_the_answer_machine(
    app: Flask, session: Session
) -> None:
    result = play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=12))
    assert rung(result) == []
    assert stored(session, result).outcome == "voicemail"


@pytest.mark.usefixtures("team")
def test_call_to_an_unlisted_number_is_handled_as_the_first_office_and_logged(
    app: Flask, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = play(app, Script(caller=PARENT, to="+441632960999", advisers={ANN: "accept"}))
    call = stored(session, result)
    assert call.office == "herefordshire" and call.outcome == "answered"
    ring = next(s.text for s in result.steps if s.text.startswith("rings adviser"))
    assert PARENT not in ring and "caller ID not set" not in ring
    assert "no office lists" in caplog.text
    assert "+441632960999" not in caplog.text and PARENT not in caplog.text


def test_each_test_starts_with_an_empty_call_log(session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(Call)) == 0
    assert session.scalar(select(func.count()).select_from(CallEvent)) == 0


@pytest.mark.usefixtures("team")
def test_an_adviser_making_a_call_back_is_not_rung_for_a_new_call(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    from callbacks import attempts, filing
    from rota.service import find_adviser

    ann = find_adviser(session, "Ann Ash")
    callback, _ = filing.callback_for(session, settings, "+447700900555", "herefordshire", clock())
    attempt = attempts.start_attempt(session, callback, ann, "tester", clock())
    attempts.placed(attempt, None)
    session.commit()
    result = play(app, Script(caller=PARENT, to=HEREFORD, advisers={BEN: "accept"}))
    assert rung(result) == [BEN]


def ring_ann_then_wait(app: Flask, session: Session, clock: Clock, seconds: int) -> tuple[str, str]:
    """A call rings Ann, whose phone rings out after `seconds`; the TwiML before and after."""
    client = app.test_client()
    sid = "CA" + "5" * 32

    def post(path: str, params: dict[str, str]) -> str:
        return signed_post(client, path, params).get_data(as_text=True)

    first = post("/voice/incoming", {"CallSid": sid, "From": PARENT, "To": HEREFORD})
    leg = session.scalars(select(CallLeg)).one()
    clock.advance(seconds=seconds)
    after = post(
        f"/voice/dial-result?leg={leg.id}",
        {"CallSid": sid, "DialCallStatus": "no-answer", "CallStatus": "in-progress"},
    )
    return first, after


@pytest.mark.usefixtures("team")
def test_a_caller_is_not_kept_ringing_past_the_longest_wait(
    app: Flask, session: Session, clock: Clock
) -> None:
    first, after = ring_ann_then_wait(app, session, clock, 151)
    assert ANN in first
    assert BEN not in after and "<Record" in after


@pytest.mark.usefixtures("team")
def test_the_last_adviser_rings_only_for_the_time_left_of_the_longest_wait(
    app: Flask, session: Session, clock: Clock
) -> None:
    first, after = ring_ann_then_wait(app, session, clock, 140)
    assert ANN in first and 'timeout="20"' in first
    assert BEN in after and 'timeout="10"' in after
