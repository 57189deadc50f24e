"""The words of the call log: how a call turned out, where an adviser's leg stands, and Twilio's
own call statuses with the ones that end a call. Pure.

Our words are kept in the database as they are spelled here (see `helpline.db.StrEnumType`);
Twilio's are converted to ours where they are read (`unanswered_leg_end`).
"""

from __future__ import annotations

from enum import StrEnum


class CallOutcome(StrEnum):
    """How an ended call turned out, in the words of the calls list."""

    ANSWERED = "answered"
    ANSWERED_BY_PARTNER = "answered_by_partner"
    VOICEMAIL = "voicemail"
    CALLBACK_REQUESTED = "callback_requested"
    MISSED = "missed"
    ABANDONED = "abandoned"


class LegState(StrEnum):
    """Where an adviser's leg stands: open while ringing or screening, then how it ended."""

    RINGING = "ringing"
    SCREENING = "screening"  # the adviser's phone answered; the screen asks them to press 1
    ACCEPTED = "accepted"  # they pressed 1: a conversation, until the leg ends
    DECLINED = "declined"  # the screen ended without a 1
    CANCELLED = "cancelled"  # named in an answer Twilio never acted on: it never rang
    COMPLETED = "completed"  # an accepted leg, over
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CALLER_GONE = "caller-gone"  # the caller hung up while it rang
    UNKNOWN = "unknown"  # its end never reached us, and Twilio could not say


OPEN_LEG_STATES = (LegState.RINGING, LegState.SCREENING)


class TwilioCallStatus(StrEnum):
    """Twilio's status of a call or a leg (its CallStatus, DialCallStatus or REST status)."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"  # Twilio's spelling


TERMINAL = frozenset(
    {
        TwilioCallStatus.COMPLETED,
        TwilioCallStatus.BUSY,
        TwilioCallStatus.NO_ANSWER,
        TwilioCallStatus.FAILED,
        TwilioCallStatus.CANCELED,
    }
)


def unanswered_leg_end(twilio_status: str) -> LegState:
    """How an adviser's leg that was never accepted ended, from Twilio's status of it: busy or
    failed as Twilio says, and anything else as not answered."""
    if twilio_status == TwilioCallStatus.BUSY:
        return LegState.BUSY
    if twilio_status == TwilioCallStatus.FAILED:
        return LegState.FAILED
    return LegState.NO_ANSWER
