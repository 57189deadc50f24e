"""Messages left on the answer machine: recorded once per RecordingSid, whatever the repeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callbacks import common, filing, staff_actions
from callbacks.models import Message
from callbacks.states import OPEN_STATUSES
from calls import events as call_events
from calls import service as calls
from calls.models import Call
from calls.states import CallOutcome
from helpline.db import flushed
from helpline.driver import compiled_once
from helpline.settings import Settings


def record_message(
    session: Session,
    settings: Settings,
    *,
    recording_sid: str,
    call_sid: str,
    duration_s: int,
    now: datetime,
    received_at: datetime | None = None,
) -> Message | None:
    """Keep a completed recording as a message; the existing one when this is a repeat."""
    existing = session.scalar(select(Message).where(Message.recording_sid == recording_sid))
    if existing is not None:
        return existing
    call = calls.find_call(session, call_sid)
    message = Message(
        recording_sid=recording_sid,
        call_id=call.id if call else None,
        call_sid=call_sid,
        office=call.office if call else settings.first_office.key,
        phone=(call.from_number or call.callback_number) if call else None,
        duration_s=max(duration_s, 0),
        received_at=received_at or now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return session.scalar(select(Message).where(Message.recording_sid == recording_sid))
    if call is not None:
        calls.message_left(session, call)
    call_events.record_event(
        session,
        call_sid,
        "message",
        now,
        {"recording_sid": recording_sid, "duration": duration_s},
        key=f"message:{recording_sid}",
    )
    filing.file_message(session, settings, message, now)
    return message


@dataclass(frozen=True)
class UnseenCall:
    """What is known of a call the service never saw, from its recording's webhook or from
    Twilio's account of it: who rang (E.164, or None if withheld), which number, when it
    started, and when it ended if it is known to be over."""

    caller: str | None
    to_number: str
    started_at: datetime
    ended_at: datetime | None = None


def keep_recording(
    session: Session,
    settings: Settings,
    *,
    recording_sid: str,
    call_sid: str,
    duration_s: int,
    now: datetime,
    received_at: datetime | None = None,
    unseen: UnseenCall | None = None,
) -> Message | None:
    """Keep a finished recording as a message. A recording of a call the service does not know
    (its first webhook failed, or every webhook was lost) first makes the call from `unseen`,
    when given: it reached the answer machine, and has ended if `unseen` says when. Messages
    recorded before their call was known are then given it."""
    call = calls.find_call(session, call_sid)
    if call is None and unseen is not None:
        call = _call_from_recording(session, settings, call_sid, unseen)
    message = record_message(
        session,
        settings,
        recording_sid=recording_sid,
        call_sid=call_sid,
        duration_s=duration_s,
        now=now,
        received_at=received_at,
    )
    if call is not None:
        attach_orphans(session, settings, call, now)
    return message


def recording_not_kept(
    session: Session,
    recording_sid: str,
    call_sid: str,
    status: str,
    duration_s: int,
    now: datetime,
) -> None:
    """Twilio's word on a recording that makes no message (absent, failed, or empty): kept in
    the call's events, once per recording and status."""
    call_events.record_event(
        session,
        call_sid,
        "recording-" + (status or "unknown"),
        now,
        {"recording_sid": recording_sid, "duration": duration_s},
        key=f"recording:{recording_sid}:{status}",
    )


def _call_from_recording(
    session: Session, settings: Settings, call_sid: str, unseen: UnseenCall
) -> Call:
    call, _ = calls.record_incoming(
        session, settings, call_sid, unseen.caller, unseen.to_number, unseen.started_at
    )
    if unseen.ended_at is None:
        calls.entered_answer_machine(session, call, unseen.started_at)
    else:  # the recording is finished and the call over: it ended at the answer machine
        calls.recovered_from_recording(session, call, unseen.started_at, unseen.ended_at)
    return call


def status_reported(
    session: Session, settings: Settings, report: calls.StatusReport, now: datetime
) -> None:
    """Apply a call's status callback (once); a call that has ended gets any message recorded
    before it was known, and a missed call may become a callback."""
    call = calls.record_status(session, settings, report, now)
    if call is None:
        return
    attach_orphans(session, settings, call, now)
    if call.outcome == CallOutcome.MISSED:
        file_missed_call(session, settings, call, now)


def file_missed_call(session: Session, settings: Settings, call: Call, now: datetime) -> None:
    """A hang-up before the beep becomes a callback only when the configuration says so."""
    phone = call.from_number or call.callback_number
    if not settings.callbacks.missed_call_makes_callback or phone is None:
        return
    callback, created = filing.callback_for(
        session, settings, phone, call.office, now, kind="missed-call"
    )
    if not created:
        common.event(session, callback, "missed-call-joined", "service", now)


@cache
def _orphans_query() -> Select[Message]:
    """Built once: every final status asks it."""
    return select(Message).where(Message.call_sid == bindparam("sid"), Message.call_id.is_(None))


@cache
def _any_orphan_query() -> Select[int]:
    """Whether the call has a message without its call. Built once."""
    return (
        select(Message.id)
        .where(Message.call_sid == bindparam("sid"), Message.call_id.is_(None))
        .limit(1)
    )


def _any_orphan(session: Session, sid: str) -> bool:
    return bool(compiled_once(_any_orphan_query()).run(flushed(session), {"sid": sid}))


def attach_orphans(session: Session, settings: Settings, call: Call, now: datetime) -> int:
    """Give messages recorded before their call was known (the call's first webhook failed)
    their call, number and county, moving each into its caller's callback. Returns how many."""
    if session.get_bind().dialect.name == "postgresql" and not _any_orphan(session, call.sid):
        return 0  # the usual case, asked through psycopg: every final status asks
    orphans = session.scalars(_orphans_query(), {"sid": call.sid}).all()
    phone = call.from_number or call.callback_number
    for message in orphans:
        message.call_id, message.office, message.phone = call.id, call.office, phone
        calls.message_left(session, call)
        callback = message.callback
        if callback is None or callback.phone is not None or phone is None:
            continue
        if len(callback.messages) != 1 or callback.status not in OPEN_STATUSES:
            continue
        existing = filing.open_for_phone(session, phone)
        if existing is not None:
            message.callback_id = existing.id
            common.event(session, existing, "message-joined", "service", now, message_id=message.id)
            staff_actions.close(
                session, callback, f"merged into callback {existing.id}", "service", now
            )
        else:
            callback.phone, callback.office = phone, call.office
            for attempt in callback.attempts:
                attempt.office = call.office  # whose caller it was, as the statistics read it
            callback.due_at = filing.promise(session, settings, call.office, message.received_at)
            common.event(session, callback, "number-found", "service", now)
    session.flush()
    return len(orphans)
