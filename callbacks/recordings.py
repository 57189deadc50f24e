"""Listening to a caller's message through the service: who may, and its audio from the dialer.

The browser is given the service's own address for a recording, never Twilio's URL or
credentials. The permission is decided in one transaction, and the audio fetched after it, so
no transaction is held open while Twilio answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from callbacks import access
from callbacks.common import CallbackError
from callbacks.models import Message
from callbacks.page import NotYours
from helpline.db import unit_of_work
from helpline.dialer import ByteRange, DialerError, RecordingAudio
from helpline.runtime import Runtime


class NoRecording(CallbackError):
    """No message has that recording, or its audio is no longer kept."""


class RecordingUnavailable(CallbackError):
    """The recording could not be fetched just now (Twilio out of reach, say)."""


@dataclass(frozen=True)
class Listenable:
    """A message the person may listen to, and what the page says about it."""

    recording_sid: str
    message_id: int
    callback_id: int | None
    office: str
    duration_s: int
    received_at: datetime


@dataclass(frozen=True)
class Played:
    """A message's audio for one request, and whether the request counts as a listen."""

    message: Listenable
    audio: RecordingAudio
    is_listen: bool


def counts_as_listen(byte_range: ByteRange | None) -> bool:
    """Whether a GET is a listen to audit: one with no range (or several ranges, answered with
    the whole recording), one from the first byte, or one for the last bytes (which can be the
    whole recording); a player asks for later parts of the same listen as it goes. A HEAD
    fetches no audio and is never a listen."""
    return byte_range is None or byte_range.start <= 0


def recording_for_listener(
    session: Session, recording_sid: str, adviser_id: int | None, may_see_all: bool
) -> Listenable:
    """The message with this recording if the person may hear it: it belongs to a callback
    assigned to their adviser, or they may see all. NoRecording when there is none (or it was
    deleted after the retention period); NotYours when it is someone else's."""
    message = session.scalar(
        select(Message)
        .where(Message.recording_sid == recording_sid)
        .options(joinedload(Message.callback))
    )
    if message is None:
        raise NoRecording("there is no such recording")
    assigned_to_id = message.callback.assigned_to_id if message.callback is not None else None
    if not access.may_act_on(assigned_to_id, access.acting_as(adviser_id, may_see_all)):
        raise NotYours("this message belongs to a callback that is not assigned to you")
    if message.deleted_at is not None:
        raise NoRecording("this recording was deleted at the end of its retention period")
    return Listenable(
        recording_sid=message.recording_sid,
        message_id=message.id,
        callback_id=message.callback_id,
        office=message.office,
        duration_s=message.duration_s,
        received_at=message.received_at,
    )


def may_listen(
    runtime: Runtime, recording_sid: str, adviser_id: int | None, may_see_all: bool
) -> Listenable:
    """The message with this recording if the person may hear it, checked in a transaction of
    its own and nothing fetched (a HEAD request asks no more); the errors of
    `recording_for_listener`."""
    with unit_of_work(runtime.sessions) as session:
        return recording_for_listener(session, recording_sid, adviser_id, may_see_all)


def listen(
    runtime: Runtime,
    recording_sid: str,
    adviser_id: int | None,
    may_see_all: bool,
    byte_range: ByteRange | None = None,
) -> Played:
    """Check the person may hear the recording, then fetch its audio (or the range asked for)
    through the dialer; the errors of `recording_for_listener`, or RecordingUnavailable."""
    message = may_listen(runtime, recording_sid, adviser_id, may_see_all)
    try:
        audio = runtime.dialer.fetch_recording(recording_sid, byte_range)
    except DialerError as exc:
        raise RecordingUnavailable(f"the recording cannot be fetched just now: {exc}") from None
    if audio is None:
        raise NoRecording("Twilio no longer has this recording")
    return Played(message, audio, counts_as_listen(byte_range))
