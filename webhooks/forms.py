"""Twilio's forms read into small typed values, bounded, before any view acts on them.

Each webhook reads its form once, here; the views and the services below them see only these
values. What is missing or malformed counts as absent (see `webhooks.common`), and a voice
request that cannot do without a CallSid raises `BadRequest`, which answers the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from calls.service import StatusReport
from helpline.phones import caller_number
from helpline.twilio_values import LONGEST_SEQUENCE, optional_int, to_int
from webhooks.common import call_sid, dialled, sid, status_word


@dataclass(frozen=True)
class IncomingCall:
    """A call arriving (/voice/incoming): whose, from whom, to which helpline number."""

    sid: str
    caller: str | None  # E.164, or None when withheld or unusable
    to_number: str  # as Twilio gives it; '' when missing or too long to be a number


def incoming_call(params: dict[str, str]) -> IncomingCall:
    """The call a request names, with who rang which number; BadRequest without a CallSid."""
    return IncomingCall(call_sid(params), caller_number(params.get("From")), dialled(params))


@dataclass(frozen=True)
class Keys:
    """The keys a caller or an adviser pressed (a <Gather>'s action), on the call named."""

    call_sid: str | None  # the call the request was made on
    pressed: str  # Digits, stripped: '' when nothing was pressed

    @property
    def digits(self) -> str:
        """Only the digits pressed (a keyed number without its '#' or '*')."""
        return "".join(ch for ch in self.pressed if ch.isdigit())


def keys(params: dict[str, str]) -> Keys:
    """The keys pressed, and the call they were pressed on."""
    return Keys(sid(params, "CallSid"), params.get("Digits", "").strip())


@dataclass(frozen=True)
class DialResult:
    """A <Dial>'s action: how the dialled leg ended, and where the call that dialled it stands."""

    dial_status: str  # Twilio's DialCallStatus; '' when missing or malformed
    dial_sid: str | None  # the dialled leg's CallSid
    call_status: str  # the dialling call's own CallStatus; '' when missing or malformed
    duration_s: int  # DialCallDuration; 0 when missing, malformed or out of range


def dial_result(params: dict[str, str]) -> DialResult:
    """A <Dial> action's parameters, bounded."""
    return DialResult(
        dial_status=status_word(params, "DialCallStatus"),
        dial_sid=sid(params, "DialCallSid"),
        call_status=status_word(params, "CallStatus"),
        duration_s=to_int(params.get("DialCallDuration")),
    )


@dataclass(frozen=True)
class CallStatus:
    """A status callback about a call the service placed itself (ringing an adviser back)."""

    sid: str | None
    status: str  # Twilio's CallStatus; '' when missing or malformed


def call_status(params: dict[str, str]) -> CallStatus:
    """A placed call's status callback, bounded."""
    return CallStatus(sid(params, "CallSid"), status_word(params, "CallStatus"))


@dataclass(frozen=True)
class RecordingReport:
    """A recording's end (/voice/recorded) or Twilio's word on it (/voice/recording-status)."""

    recording_sid: str | None
    call_sid: str | None
    duration_s: int  # 0 when missing, malformed or out of range
    status: str = ""  # RecordingStatus: 'completed', 'absent', ...; '' when missing or malformed
    has_url: bool = False  # whether Twilio gave the recording's URL (only the action does)
    caller: str | None = None  # From, E.164; None when withheld or unusable
    to_number: str = ""  # To; '' when missing or too long to be a number


def recording_report(params: dict[str, str]) -> RecordingReport:
    """A recording's parameters, bounded."""
    return RecordingReport(
        recording_sid=sid(params, "RecordingSid"),
        call_sid=sid(params, "CallSid"),
        duration_s=to_int(params.get("RecordingDuration")),
        status=status_word(params, "RecordingStatus"),
        has_url=bool(params.get("RecordingUrl")),
        caller=caller_number(params.get("From")),
        to_number=dialled(params),
    )


def status_report(params: dict[str, str]) -> StatusReport | None:
    """A status callback's parameters, bounded; None without a usable CallSid and status."""
    call, status = sid(params, "CallSid"), status_word(params, "CallStatus")
    if call is None or not status:
        return None
    return StatusReport(
        sid=call,
        status=status,
        sequence=optional_int(params.get("SequenceNumber"), LONGEST_SEQUENCE),
        duration_s=optional_int(params.get("CallDuration")),
        parent_sid=sid(params, "ParentCallSid"),
        caller=caller_number(params.get("From")),
        to_number=dialled(params),
    )
