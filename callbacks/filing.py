"""Filing: a message, a missed call or a request to be called back makes or joins its caller's
one open callback, with the promise of when the first attempt is due. Services flush but never
commit."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from callbacks.common import event, get
from callbacks.models import Callback, Message
from callbacks.states import OPEN_STATUSES, CallbackStatus
from callbacks.working_time import due_at
from calls import service as calls
from calls.models import Call
from helpline.settings import Settings
from rota import service as rota

log = logging.getLogger("helpline.callbacks")


def promise(
    session: Session, settings: Settings, office: str, received_at: datetime
) -> datetime | None:
    """When the first attempt is due for a message received at `received_at`; None while the
    office has no opening in sight, or if the deadline cannot be worked out at all."""
    try:
        calendar = rota.calendar(session, settings, office, received_at, days=400)
        return due_at(calendar, received_at, settings.callbacks.promise_working_days)
    except SQLAlchemyError:
        raise  # the database itself failed: nothing can be filed
    except Exception as exc:
        # Nothing about a deadline may stop a message from being filed; the duty officer sees
        # it with no deadline. Office keys are configuration, never personal data.
        log.error(
            "no deadline for a callback to office %r: %s; filed without one",
            office,
            type(exc).__name__,
        )
        return None


def open_for_phone(session: Session, phone: str) -> Callback | None:
    """The caller's open callback, if there is one."""
    return session.scalar(
        select(Callback).where(Callback.phone == phone, Callback.status.in_(OPEN_STATUSES))
    )


def _create(
    session: Session, settings: Settings, phone: str | None, office: str, now: datetime, kind: str
) -> Callback:
    callback = Callback(
        phone=phone,
        office=office,
        status=CallbackStatus.OPEN,
        created_at=now,
        due_at=promise(session, settings, office, now),
    )
    session.add(callback)
    session.flush()
    event(session, callback, kind, "service", now, office=office)
    return callback


def callback_for(
    session: Session,
    settings: Settings,
    phone: str | None,
    office: str,
    now: datetime,
    kind: str = "created",
) -> tuple[Callback, bool]:
    """The caller's open callback or a new one, and whether it is new.

    A caller with no number always gets a new one: two withheld callers are not one person.
    """
    if phone is None:
        return _create(session, settings, None, office, now, kind), True
    existing = open_for_phone(session, phone)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            return _create(session, settings, phone, office, now, kind), True
    except IntegrityError:
        # Another message from this number made the callback a moment ago: join it.
        existing = open_for_phone(session, phone)
        if existing is None:
            raise
        return existing, False


def request_callback(
    session: Session, settings: Settings, call: Call, now: datetime
) -> Callback | None:
    """The caller chose to be called back rather than wait: the callback that promises it, made
    or joined; None when the caller's number is withheld (the answer machine asks for one)."""
    if call.from_number is None:
        return None
    callback, created = callback_for(
        session, settings, call.from_number, call.office, now, kind="requested"
    )
    if not created:
        event(session, callback, "request-joined", "service", now)
    calls.callback_requested(session, call, now)
    return callback


def file_message(session: Session, settings: Settings, message: Message, now: datetime) -> Callback:
    """Put a message into its caller's open callback (keeping its place) or a new one."""
    if message.callback_id is not None:
        return get(session, message.callback_id)
    callback, created = callback_for(
        session, settings, message.phone, message.office, message.received_at
    )
    message.callback_id = callback.id
    if not created:
        event(
            session,
            callback,
            "message-joined",
            "service",
            now,
            message_id=message.id,
            office=message.office,
        )
    session.flush()
    return callback
