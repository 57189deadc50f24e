"""From message to callback: one open callback per number, deadlines in working time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks import common, filing, staff_actions
from callbacks.models import Callback, Message
from callbacks.report import list_callbacks
from calls import service as calls
from calls.report import recent_calls
from helpline.app import create_app, make_runtime
from helpline.settings import Settings
from helpline.simulation.simulator import CallPlayer, FlaskTransport, Result, Script
from rota import service as rota
from tests.constants import ANN, BASE_URL, HEREFORD, OTHER_PARENT, PARENT, TOKEN, WORCS
from tests.factories import Clock, adviser, signed_post

# Friday 4 December 2026, 18:30 in London (GMT): both offices closed for the weekend.
FRIDAY_EVENING = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


def play(app: Flask, script: Script) -> Result:
    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(script)
    assert result.errors == []
    return result


def callbacks_json(session: Session, clock: Clock) -> list[dict[str, object]]:
    session.expire_all()
    return list_callbacks(session, clock())


def test_out_of_hours_message_becomes_a_callback_due_two_working_days_after_opening(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=40))
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == PARENT and callback["office"] == "herefordshire"
    assert callback["status"] == "open" and callback["assigned_to"] is None
    # The clock starts at Monday 09:00; two working days later is Wednesday 09:00.
    assert callback["due_at"] == "2026-12-09T09:00:00+00:00"
    assert callback["messages"] == [
        {
            "recording_sid": result.recording_sids[0],
            "duration_s": 40,
            "received_at": "2026-12-04T18:30:00+00:00",
        }
    ]
    assert set(callback) >= {
        "id",
        "phone",
        "office",
        "status",
        "due_at",
        "next_attempt_at",
        "assigned_to",
        "attempts",
        "messages",
        "created_at",
    }


def test_deadline_skips_the_christmas_bank_holidays(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(datetime(2026, 12, 24, 18, 0, tzinfo=UTC))  # Christmas Eve, after hours
    play(app, Script(caller=PARENT, to=WORCS, message_seconds=20))
    [callback] = callbacks_json(session, clock)
    # Opens Tuesday 29 Dec 09:00 (25th, 26th-28th closed); + 2 working days = Thursday 31st.
    assert callback["due_at"] == "2026-12-31T09:00:00+00:00"


def test_a_repeat_callers_new_message_joins_their_open_callback_whatever_county_they_rang(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=30))
    first_due = callbacks_json(session, clock)[0]["due_at"]
    clock.advance(days=1)
    play(app, Script(caller=PARENT, to=WORCS, message_seconds=15))
    [callback] = callbacks_json(session, clock)
    assert [m["duration_s"] for m in callback["messages"]] == [30, 15]
    assert callback["office"] == "herefordshire" and callback["due_at"] == first_due


def test_messages_without_a_number_each_make_their_own_callback(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    for _ in range(2):
        play(app, Script(caller=None, to=HEREFORD, digits=["#"], message_seconds=20))
    listed = callbacks_json(session, clock)
    assert [c["phone"] for c in listed] == [None, None]


def test_withheld_caller_keys_a_number_hears_it_read_back_and_confirms(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(app, Script(caller=None, to=HEREFORD, digits=["07700 900456#", "1"]))
    heard = " ".join(result.heard())
    assert "key in the number we should call you back on" in heard
    assert "You entered 0 7 7 0 0, 9 0 0, 4 5 6. Press 1 if that is right" in heard
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == "+447700900456"


def test_withheld_caller_can_re_enter_a_number_and_a_bad_one_is_refused(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(
        app,
        Script(
            caller=None, to=HEREFORD, digits=["123#", "07700 900111#", "2", "07700 900222#", "1"]
        ),
    )
    assert "does not look like a UK phone number" in " ".join(result.heard())
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == "+447700900222"


def test_withheld_caller_who_presses_nothing_still_leaves_a_message(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    play(app, Script(caller=None, to=HEREFORD, digits=[], message_seconds=25))
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] is None and callback["messages"][0]["duration_s"] == 25


@pytest.mark.parametrize(
    ("keyed", "reason"),
    [
        ("0909 879 0000", "a premium rate number"),
        ("0871 234 5678", "an 0871, 0872 or 0873 number"),
        ("070 1234 5678", "a personal number starting 070"),
        ("118 118", "a 118 directory enquiries number"),
    ],
)
def test_a_number_that_costs_more_than_an_ordinary_call_is_refused_with_the_reason(
    app: Flask, session: Session, clock: Clock, keyed: str, reason: str
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(app, Script(caller=None, to=HEREFORD, digits=[keyed + "#", "07700 900456#", "1"]))
    assert (
        f"Sorry, we cannot call you back on {reason}, because it costs more than an ordinary "
        "call. Please give a landline or mobile number."
    ) in result.heard()
    assert "Please key in the number again, then press the hash key." in result.heard()
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == "+447700900456"


READ_BACK_456 = "You entered 0 7 7 0 0, 9 0 0, 4 5 6. Press 1 if that is right"


def times_read_back(result: Result, reading: str = READ_BACK_456) -> int:
    return sum(reading in heard for heard in result.heard())


@pytest.mark.parametrize("unclear", ["9", "*", ""], ids=["9", "star", "no key"])
def test_a_read_back_answered_with_another_key_or_none_is_read_once_more(
    app: Flask, session: Session, clock: Clock, unclear: str
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(app, Script(caller=None, to=HEREFORD, digits=["07700 900456#", unclear, "1"]))
    assert times_read_back(result) == 2
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == "+447700900456"


@pytest.mark.parametrize("unclear", ["9", ""], ids=["9", "no key"])
def test_a_number_not_confirmed_after_two_read_backs_is_asked_for_again(
    app: Flask, session: Session, clock: Clock, unclear: str
) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(
        app,
        Script(
            caller=None,
            to=HEREFORD,
            digits=["07700 900456#", unclear, unclear, "07700 900789#", "1"],
        ),
    )
    assert times_read_back(result) == 2
    assert "Please key in the number again, then press the hash key." in result.heard()
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == "+447700900789"


def test_a_caller_who_keys_a_number_then_presses_nothing_reaches_the_beep_with_no_number(
    app: Flask, session: Session, clock: Clock, settings: Settings
) -> None:
    assert settings.callbacks.number_entry_tries == 3
    clock.set(FRIDAY_EVENING)
    result = play(
        app,
        Script(caller=None, to=HEREFORD, digits=["07700 900456#", "", "", "07700 900456#"]),
    )
    # Read back twice, asked again; keyed again, read back twice; then nothing at all.
    assert times_read_back(result) == 4
    assert any("say it in your message" in heard for heard in result.heard())
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] is None
    assert callback["messages"][0]["duration_s"] == 20


def test_a_caller_who_never_confirms_runs_out_of_tries_and_still_leaves_a_message(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    keyed_and_ignored = ["07700 900456#", "7", "7"] * 3
    result = play(app, Script(caller=None, to=HEREFORD, digits=keyed_and_ignored))
    assert times_read_back(result) == 6
    assert any("say it in your message" in heard for heard in result.heard())
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] is None
    assert callback["messages"][0]["duration_s"] == 20


def test_repeated_webhooks_change_nothing(app: Flask, session: Session, clock: Clock) -> None:
    clock.set(FRIDAY_EVENING)
    result = play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=20))
    client = app.test_client()
    params = {
        "CallSid": result.call_sid,
        "RecordingSid": result.recording_sids[0],
        "RecordingStatus": "completed",
        "RecordingDuration": "20",
        "RecordingUrl": "https://api.twilio.com/x",
    }
    for _ in range(2):
        signed_post(client, "/voice/recording-status", params)
        signed_post(client, "/voice/recorded", params)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert session.scalar(select(func.count()).select_from(Callback)) == 1


def test_hang_up_before_the_beep_is_a_missed_call_not_a_callback(
    app: Flask, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=0))
    assert callbacks_json(session, clock) == []


def test_configuration_can_make_missed_calls_into_callbacks(
    settings: Settings, sessions: sessionmaker[Session], session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    policy = replace(settings.callbacks, missed_call_makes_callback=True)
    app = create_app(
        make_runtime(replace(settings, callbacks=policy), sessions=sessions, clock=clock)
    )
    play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=0))
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == PARENT and callback["messages"] == []


def test_closing_needs_a_reason_and_a_closed_callback_cannot_be_closed_again(
    session: Session, settings: Settings, clock: Clock
) -> None:
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    with pytest.raises(common.CallbackError, match="reason"):
        staff_actions.close(session, callback, "  ", "tester", clock())
    staff_actions.close(session, callback, "parent rang back and was helped", "tester", clock())
    with pytest.raises(common.CallbackError, match="already cancelled"):
        staff_actions.close(session, callback, "again", "tester", clock())
    # A new message from the same number now starts a fresh callback.
    again, created = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    assert created and again.id != callback.id


def test_two_staff_acting_at_once_one_wins_and_the_other_is_told(
    sessions: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    with sessions() as setup:
        callback, _ = filing.callback_for(setup, settings, PARENT, "herefordshire", clock())
        setup.commit()
        callback_id = callback.id
    # Both see the callback open (as on two screens), then act one after the other.
    first, second = sessions(), sessions()
    theirs = common.get(second, callback_id)
    second.commit()
    mine = common.get(first, callback_id)
    first.commit()
    staff_actions.close(first, mine, "duplicate", "duty officer", clock())
    first.commit()
    with pytest.raises(common.Conflict, match="changed by someone else"):
        staff_actions.close(second, theirs, "also a duplicate", "adviser", clock())
    second.rollback()
    with sessions() as check:
        assert common.get(check, callback_id).close_reason == "duplicate"


@pytest.fixture
def offering_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Flask:
    policy = replace(settings.callbacks, office_hours_callback_offer=True)
    return create_app(
        make_runtime(replace(settings, callbacks=policy), sessions=sessions, clock=clock)
    )


def test_in_office_hours_a_caller_may_ask_to_be_called_back_instead_of_waiting(
    offering_app: Flask, session: Session, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
    session.commit()
    result = play(offering_app, Script(caller=PARENT, to=HEREFORD, digits=["2"]))
    assert "press 2 now" in " ".join(result.heard())
    assert not any(s.text.startswith("rings adviser") for s in result.steps)
    [callback] = callbacks_json(session, clock)
    assert callback["phone"] == PARENT and callback["messages"] == []
    [call] = recent_calls(session)
    assert call["outcome"] == "callback_requested"
    # Ann was never rung, so she is free for the next caller straight away.
    second = play(
        offering_app,
        Script(caller=OTHER_PARENT, to=HEREFORD, advisers={ANN: "accept"}),
    )
    assert any(s.text.startswith("rings adviser +447700900001") for s in second.steps)


def test_a_caller_who_ignores_the_offer_is_put_through(
    offering_app: Flask, session: Session, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
    session.commit()
    result = play(offering_app, Script(caller=PARENT, to=HEREFORD, advisers={ANN: "accept"}))
    assert any("caller connected" in s.text for s in result.steps)
    assert callbacks_json(session, clock) == []


def _break_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    import calls.ringing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(calls.ringing, "ring_next", broken)


def test_when_the_first_webhook_fails_the_message_still_reaches_the_right_callback(
    app: Flask, session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(FRIDAY_EVENING)
    _break_routing(monkeypatch)
    result = play(app, Script(caller=PARENT, to=WORCS, message_seconds=33))
    assert "Sorry, something went wrong" in " ".join(result.heard())
    [callback] = callbacks_json(session, clock)
    assert (callback["phone"], callback["office"]) == (PARENT, "worcestershire")
    session.expire_all()
    [call] = [c for c in recent_calls(session) if c["sid"] == result.call_sid]
    assert call["outcome"] == "voicemail"


def test_a_message_known_before_its_call_is_given_the_callers_number_later(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    clock.set(FRIDAY_EVENING)
    sid, rec = "CA" + "7" * 32, "RE" + "7" * 32

    def post(path: str, params: dict[str, str]) -> None:
        assert signed_post(client, path, params).status_code == 200

    # The first webhook failed (no call stored); the recording is reported before anything else.
    post(
        "/voice/recording-status",
        {
            "CallSid": sid,
            "RecordingSid": rec,
            "RecordingStatus": "completed",
            "RecordingDuration": "12",
        },
    )
    assert callbacks_json(session, clock)[0]["phone"] is None
    post(
        "/voice/status",
        {
            "CallSid": sid,
            "CallStatus": "completed",
            "From": PARENT,
            "To": WORCS,
            "CallDuration": "40",
        },
    )
    [callback] = callbacks_json(session, clock)
    assert (callback["phone"], callback["office"]) == (PARENT, "worcestershire")
    assert callback["due_at"] == "2026-12-09T09:00:00+00:00"


# --- an office with no opening in sight ------------------------------------------------------


def without_hours(settings: Settings, key: str) -> Settings:
    """The settings with office `key` given no opening hours at all."""
    office = replace(settings.offices[key], hours={})
    return replace(settings, offices={**settings.offices, key: office})


@pytest.fixture(params=["closed until further notice", "no hours configured"])
def herefordshire_not_opening(
    request: pytest.FixtureRequest,
    settings: Settings,
    sessions: sessionmaker[Session],
    session: Session,
    clock: Clock,
) -> Flask:
    """The service, with Herefordshire's office giving no opening in sight."""
    if request.param == "closed until further notice":
        rota.close_office(session, settings, "herefordshire", clock())
        session.commit()
    else:
        settings = without_hours(settings, "herefordshire")
    return create_app(make_runtime(settings, sessions=sessions, clock=clock))


def test_a_message_for_an_office_with_no_opening_in_sight_is_filed_with_no_deadline(
    herefordshire_not_opening: Flask, session: Session, clock: Clock
) -> None:
    app = herefordshire_not_opening
    result = play(app, Script(caller=PARENT, to=HEREFORD, message_seconds=30))

    [callback] = callbacks_json(session, clock)
    assert (callback["phone"], callback["office"], callback["status"]) == (
        PARENT,
        "herefordshire",
        "open",
    )
    assert callback["due_at"] is None
    assert [m["recording_sid"] for m in callback["messages"]] == result.recording_sids
    [call] = recent_calls(session)
    assert call["outcome"] == "voicemail"

    # The same parent's next message, to the other county, joins it.
    clock.advance(hours=1)
    play(app, Script(caller=PARENT, to=WORCS, message_seconds=15))
    [callback] = callbacks_json(session, clock)
    assert [m["duration_s"] for m in callback["messages"]] == [30, 15]
    assert callback["due_at"] is None


def test_a_message_known_before_its_call_is_given_the_number_while_the_office_is_closed(
    settings: Settings, session: Session, client: FlaskClient, clock: Clock
) -> None:
    rota.close_office(session, settings, "herefordshire", clock())
    session.commit()
    sid, rec = "CA" + "8" * 32, "RE" + "8" * 32

    def post(path: str, params: dict[str, str]) -> None:
        assert signed_post(client, path, params).status_code == 200

    post(
        "/voice/recording-status",
        {
            "CallSid": sid,
            "RecordingSid": rec,
            "RecordingStatus": "completed",
            "RecordingDuration": "12",
        },
    )
    post(
        "/voice/status",
        {"CallSid": sid, "CallStatus": "completed", "From": PARENT, "To": HEREFORD},
    )

    [callback] = callbacks_json(session, clock)
    assert (callback["phone"], callback["office"], callback["due_at"]) == (
        PARENT,
        "herefordshire",
        None,
    )


def test_a_deadline_that_cannot_be_worked_out_never_stops_a_message_being_filed(
    settings: Settings,
    sessions: sessionmaker[Session],
    session: Session,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sid, rec = "CA" + "9" * 32, "RE" + "9" * 32
    calls.record_incoming(session, settings, sid, PARENT, HEREFORD, clock())
    session.commit()
    # The configuration changes before the recording arrives: Herefordshire's office is gone.
    changed = replace(settings, offices={"worcestershire": settings.offices["worcestershire"]})
    client = create_app(make_runtime(changed, sessions=sessions, clock=clock)).test_client()

    response = signed_post(
        client,
        "/voice/recording-status",
        {
            "CallSid": sid,
            "RecordingSid": rec,
            "RecordingStatus": "completed",
            "RecordingDuration": "25",
        },
    )

    assert response.status_code == 200
    [callback] = callbacks_json(session, clock)
    assert (callback["phone"], callback["office"], callback["due_at"]) == (
        PARENT,
        "herefordshire",
        None,
    )
    assert [m["recording_sid"] for m in callback["messages"]] == [rec]
    assert "no deadline" in caplog.text
    assert PARENT not in caplog.text and PARENT[1:] not in caplog.text
