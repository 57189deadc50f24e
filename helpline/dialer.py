"""The telephone network as the queue sees it: a small interface with a logging stand-in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger("helpline.dialer")


class DialerError(RuntimeError):
    """The call could not be placed; the message is safe to show and to log."""


@dataclass(frozen=True)
class RecordingInfo:
    """A recording as Twilio lists it."""

    sid: str
    call_sid: str
    duration_s: int
    created_at: datetime


@dataclass(frozen=True)
class CallInfo:
    """A call as Twilio describes it: who rang which number."""

    sid: str
    from_number: str
    to_number: str


@dataclass(frozen=True)
class CallProgress:
    """Where a call (or an adviser's leg) stands, as Twilio describes it."""

    sid: str
    status: str  # Twilio's word (see calls.states.TwilioCallStatus): queued, ringing, ...
    ended_at: datetime | None
    duration_s: int | None


class Dialer(Protocol):
    """Places calls and manages recordings; `places_calls` is False for the logging stand-in."""

    places_calls: bool

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        """Start a call that runs the TwiML at `url`; its CallSid, or None if not placed."""
        ...

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        """Recordings created since `since`, newest first."""
        ...

    def fetch_call(self, sid: str) -> CallInfo | None:
        """Who rang which number, for a call the webhooks never told us about."""
        ...

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        """Where a call stands, for one whose end never reached us; None when not known."""
        ...

    def delete_recording(self, sid: str) -> None:
        """Delete a recording at Twilio."""
        ...


@dataclass
class LoggingDialer:
    """Used without Twilio credentials: nothing is placed, and the log says so (no numbers)."""

    places_calls: bool = False

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        log.warning("outbound call not placed: no Twilio credentials are configured")
        return None

    def recent_recordings(self, since: datetime) -> list[RecordingInfo]:
        return []

    def fetch_call(self, sid: str) -> CallInfo | None:
        return None

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        return None

    def delete_recording(self, sid: str) -> None:
        log.info("recording %s not deleted at Twilio: no credentials are configured", sid)
