"""Messages left on the answer machine: recorded once per RecordingSid, whatever the repeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callbacks import queue
from callbacks.models import Message
from calls import service as calls
from calls.models import Call
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
    calls.record_event(
        session,
        call_sid,
        "message",
        now,
        {"recording_sid": recording_sid, "duration": duration_s},
        key=f"message:{recording_sid}",
    )
    queue.file_message(session, settings, message, now)
    return message


def file_missed_call(session: Session, settings: Settings, call: Call, now: datetime) -> None:
    """A hang-up before the beep becomes a callback only when the configuration says so."""
    phone = call.from_number or call.callback_number
    if not settings.callbacks.missed_call_makes_callback or phone is None:
        return
    callback, created = queue.callback_for(
        session, settings, phone, call.office, now, kind="missed-call"
    )
    if not created:
        queue.event(session, callback, "missed-call-joined", "service", now)
