"""The reconcile-recordings job: messages whose webhooks never arrived are found at Twilio and
filed, each on its own, so one that fails costs the others nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import responses
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callbacks.job_results import JobResult, Reconciled, Skipped
from callbacks.jobs import reconcile_recordings
from callbacks.messages import record_message
from callbacks.models import Callback, Message
from callbacks.report import list_callbacks
from calls import service as calls
from calls.models import Call
from calls.report import recent_calls
from helpline.dialer import RecordingInfo
from helpline.runtime import Runtime
from helpline.scheduler import last_runs, run_job
from helpline.settings import Settings
from tests.constants import (
    API,
    HEREFORD,
    MONDAY,
    OTHER_PARENT,
    PARENT,
    RECORDINGS_URL,
    WEDNESDAY,
    WORCS,
    london,
    parent,
)
from tests.db.jobs.helpers import (
    LOST_CALL,
    LOST_RECORDING,
    UnreachableTwilio,
    inbound_call,
    recording,
    recordings_page,
)
from tests.factories import Clock
from webhooks.twilio_dialer import TwilioDialer


def test_a_message_whose_webhooks_were_lost_becomes_a_callback(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, HEREFORD))

    result = run(reconcile_recordings, clock(), dialer=twilio_dialer)

    assert result == Reconciled(checked=1, recovered=1, failed=0)
    # Twilio was asked for the last two days' recordings.
    assert "DateCreated%3E=2026-11-28T10%3A00%3A00Z" in twilio.calls[0].request.url
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"], shown["status"]) == (PARENT, "herefordshire", "open")
    assert shown["messages"] == [
        {
            "recording_sid": LOST_RECORDING,
            "duration_s": 42,
            "received_at": "2026-11-30T09:30:00+00:00",
        }
    ]
    # The promise runs from when the message was left, not from when it was found.
    assert shown["due_at"] == london(WEDNESDAY, 9, 30).isoformat()
    assert [c["sid"] for c in recent_calls(session)] == [LOST_CALL]


def test_reconciling_again_recovers_nothing_more(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, HEREFORD))
    run(reconcile_recordings, clock(), dialer=twilio_dialer)

    result = run(reconcile_recordings, clock() + timedelta(minutes=15), dialer=twilio_dialer)

    assert result == Reconciled(checked=1, recovered=0, failed=0)
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert session.scalar(select(func.count()).select_from(Callback)) == 1
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_nul_byte_in_the_callers_number_from_twilio_is_not_stored(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # PostgreSQL refuses a NUL byte, and with it the statement: the number is read as a
    # webhook's From is, so the message is filed with the caller's number and no NUL.
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(
        f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT + "\x00", HEREFORD)
    )

    result = run(reconcile_recordings, clock(), dialer=twilio_dialer)
    again = run(reconcile_recordings, clock() + timedelta(minutes=15), dialer=twilio_dialer)

    assert (result, again) == (
        Reconciled(checked=1, recovered=1, failed=0),
        Reconciled(checked=1, recovered=0, failed=0),
    )
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"], len(shown["messages"])) == (
        PARENT,
        "herefordshire",
        1,
    )
    assert session.scalars(select(Call.from_number)).all() == [PARENT]


def test_a_recording_listed_with_a_nul_byte_does_not_stop_the_others_being_filed(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    garbled_call = "CA" + "5" * 32
    listed = recordings_page(
        recording("RE" + "5" * 31 + "\x00", garbled_call), recording(LOST_RECORDING, LOST_CALL)
    )
    twilio.get(RECORDINGS_URL, json=listed)
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, HEREFORD))
    twilio.get(
        f"{API}/Calls/{garbled_call}.json", json=inbound_call(garbled_call, OTHER_PARENT, WORCS)
    )

    result = run(reconcile_recordings, clock(), dialer=twilio_dialer)

    assert result == Reconciled(checked=1, recovered=1, failed=0)
    assert session.scalars(select(Message.recording_sid)).all() == [LOST_RECORDING]
    [shown] = list_callbacks(session, clock())
    assert shown["phone"] == PARENT


def test_a_recording_the_webhooks_delivered_is_skipped(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    received = london(MONDAY, 9, 30)
    calls.record_incoming(session, settings, LOST_CALL, PARENT, HEREFORD, received)
    record_message(
        session,
        settings,
        recording_sid=LOST_RECORDING,
        call_sid=LOST_CALL,
        duration_s=42,
        now=received,
    )
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=0, failed=0)
    )

    assert len(twilio.calls) == 1  # the list only: Twilio was not asked about the call
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert len(list_callbacks(session, clock())) == 1


def test_a_recording_whose_call_was_known_is_recovered_without_asking_twilio(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # The incoming webhook arrived (to Worcestershire's number); the recording callback did not.
    calls.record_incoming(session, settings, LOST_CALL, PARENT, WORCS, london(MONDAY, 9, 28))
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=1, failed=0)
    )

    assert len(twilio.calls) == 1
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"]) == (PARENT, "worcestershire")


def test_a_recording_of_a_call_not_to_the_helpline_is_skipped(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # A call back to a parent, placed from the helpline's number, that recorded something.
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, HEREFORD, PARENT))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=0, failed=0)
    )

    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert session.scalar(select(func.count()).select_from(Call)) == 0
    assert list_callbacks(session, clock()) == []


def test_a_recording_whose_call_twilio_no_longer_has_is_skipped(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(
        f"{API}/Calls/{LOST_CALL}.json",
        status=404,
        json={"code": 20404, "message": "The requested resource was not found", "status": 404},
    )

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=0, failed=0)
    )
    assert list_callbacks(session, clock()) == []


def test_an_empty_recording_is_not_a_message(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    empty = recording(LOST_RECORDING, LOST_CALL, duration="0")
    twilio.get(RECORDINGS_URL, json=recordings_page(empty))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, HEREFORD))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=0, failed=0)
    )
    assert list_callbacks(session, clock()) == []


def test_without_twilio_credentials_reconciling_is_skipped(
    clock: Clock, run: Callable[..., JobResult]
) -> None:
    assert run(reconcile_recordings, clock()) == Skipped("no Twilio credentials")


def test_a_recovered_call_shows_as_a_voicemail_in_the_call_log(
    session: Session,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, HEREFORD))

    run(reconcile_recordings, clock(), dialer=twilio_dialer)

    [shown] = recent_calls(session)
    # Twilio says the call completed at 09:30:45 and a message was left on it.
    assert (shown["status"], shown["outcome"]) == ("completed", "voicemail")
    assert shown["ended_at"] is not None


class HalfWayTwilio(UnreachableTwilio):
    """Lists two recordings, then fails when asked about the second one's call."""

    def __init__(self, known_call: str) -> None:
        self.known_call = known_call

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        at = london(MONDAY, 9, 30)
        return [
            RecordingInfo("RE" + "2" * 32, self.known_call, 30, at),
            RecordingInfo(LOST_RECORDING, LOST_CALL, 42, at),
        ]


def test_a_call_twilio_cannot_describe_does_not_hold_up_the_other_recordings(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    known = "CA" + "2" * 32
    calls.record_incoming(session, settings, known, OTHER_PARENT, WORCS, london(MONDAY, 9, 29))
    session.commit()

    result = run_job(
        dataclasses.replace(runtime, dialer=HalfWayTwilio(known)), "reconcile-recordings"
    )

    assert result == Reconciled(checked=2, recovered=1, failed=1)
    session.expire_all()
    [shown] = list_callbacks(session, clock())
    assert (shown["phone"], shown["office"]) == (OTHER_PARENT, "worcestershire")
    assert last_runs(runtime)["reconcile-recordings"].ok is True


class ShiftyTwilio(UnreachableTwilio):
    """Lists three recordings of calls the service knows; the middle one it cannot store."""

    def __init__(self, *call_sids: str) -> None:
        self.call_sids = call_sids

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        at = london(MONDAY, 9, 30)
        times = [at, at.replace(tzinfo=None), at]  # a time with no zone cannot be stored
        return [
            RecordingInfo(f"RE{n}" + "3" * 31, sid, 30, when)
            for n, (sid, when) in enumerate(zip(self.call_sids, times, strict=True))
        ]


def test_one_recording_that_cannot_be_filed_does_not_lose_the_others(
    runtime: Runtime, session: Session, settings: Settings, clock: Clock
) -> None:
    sids = ["CA1" + "4" * 31, "CA2" + "4" * 31, "CA3" + "4" * 31]
    at = london(MONDAY, 9, 29)
    calls.record_incoming(session, settings, sids[0], PARENT, HEREFORD, at)
    calls.record_incoming(session, settings, sids[1], parent(7), HEREFORD, at)
    calls.record_incoming(session, settings, sids[2], OTHER_PARENT, WORCS, at)
    session.commit()

    result = run_job(
        dataclasses.replace(runtime, dialer=ShiftyTwilio(*sids)), "reconcile-recordings"
    )

    assert result == Reconciled(checked=3, recovered=2, failed=1)
    session.expire_all()
    shown = {(c["phone"], c["office"]) for c in list_callbacks(session, clock())}
    assert shown == {(PARENT, "herefordshire"), (OTHER_PARENT, "worcestershire")}


def test_a_message_whose_call_never_reached_the_service_gets_its_callers_number(
    session: Session,
    settings: Settings,
    clock: Clock,
    run: Callable[..., JobResult],
    twilio: responses.RequestsMock,
    twilio_dialer: TwilioDialer,
) -> None:
    # Only the recording's status callback arrived: it names no caller, so the message was
    # filed without a number to call back.
    record_message(
        session,
        settings,
        recording_sid=LOST_RECORDING,
        call_sid=LOST_CALL,
        duration_s=42,
        now=london(MONDAY, 9, 31),
    )
    assert [c["phone"] for c in list_callbacks(session, clock())] == [None]
    twilio.get(RECORDINGS_URL, json=recordings_page(recording(LOST_RECORDING, LOST_CALL)))
    twilio.get(f"{API}/Calls/{LOST_CALL}.json", json=inbound_call(LOST_CALL, PARENT, WORCS))

    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=1, failed=0)
    )

    [shown] = [c for c in list_callbacks(session, clock()) if c["status"] == "open"]
    assert (shown["phone"], shown["office"]) == (PARENT, "worcestershire")
    assert [m["recording_sid"] for m in shown["messages"]] == [LOST_RECORDING]
    assert [c["sid"] for c in recent_calls(session)] == [LOST_CALL]
    # Once the message has its call, it is known like any other.
    assert run(reconcile_recordings, clock(), dialer=twilio_dialer) == (
        Reconciled(checked=1, recovered=0, failed=0)
    )
