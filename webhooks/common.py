"""What the voice views share: absolute URLs, parameter checks and fallbacks."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from calls import service as calls
from calls.models import Call
from helpline import twilio_values
from helpline.settings import Settings
from webhooks import twiml, wording
from webhooks.edge import asked

T = TypeVar("T")


class BadRequest(ValueError):
    """A webhook arrived without something it cannot do without."""


def url(path: str) -> str:
    """Absolute URL of one of the service's own webhooks."""
    return asked().base_url + path


def emergency(settings: Settings) -> VoiceResponse:
    """Fallback for the caller's own webhooks: apologise and take a message."""
    return twiml.emergency_answer_machine(
        settings, action=url("/voice/recorded"), recording_status=url("/voice/recording-status")
    )


def hang_up_fallback(settings: Settings) -> VoiceResponse:
    """Fallback for an adviser's leg: apologise and end it."""
    return twiml.say_and_hang_up(settings, wording.APOLOGY)


def required(params: dict[str, str], name: str) -> str:
    """A parameter that must be present."""
    value = params.get(name, "").strip()
    if not value:
        raise BadRequest(f"missing {name}")
    return value


def query_id(name: str) -> int:
    """The id the service wrote into its own URL as `?name=ID`."""
    try:
        value = int(asked().args.get(name, ""))
    except ValueError:
        value = 0
    if not 0 < value < 2**31:
        raise BadRequest(f"missing or malformed {name}")
    return value


def from_query(session: Session, model: type[T], name: str) -> T:
    """The row whose id the service wrote into its own URL as `?name=ID`."""
    row = session.get(model, query_id(name))
    if row is None:
        raise BadRequest(f"missing or unknown {name}")
    return row


def find_call(session: Session, sid: str | None) -> Call:
    """The call a request names by its CallSid, which it cannot do without."""
    if sid is None:
        raise BadRequest("missing or malformed CallSid")
    call = calls.find_call(session, sid)
    if call is None:
        raise BadRequest("unknown CallSid")
    return call


# Twilio's values are bounded here, before anything reaches the database (the rules are in
# helpline.twilio_values, which the REST API's answers go through too).


def sid(params: dict[str, str], name: str) -> str | None:
    """A Twilio identifier (letters and digits, at most 64), or None when missing or malformed."""
    return twilio_values.identifier(params.get(name))


def call_sid(params: dict[str, str]) -> str:
    """The request's CallSid, which it cannot do without."""
    value = sid(params, "CallSid")
    if value is None:
        raise BadRequest("missing or malformed CallSid")
    return value


def status_word(params: dict[str, str], name: str) -> str:
    """A status such as 'in-progress' (lower-case letters and hyphens); '' when malformed."""
    return twilio_values.status_word(params.get(name))


def dialled(params: dict[str, str], name: str = "To") -> str:
    """The number a caller dialled, as Twilio gives it; '' when missing, too long to be one, or
    holding a control character (PostgreSQL refuses a NUL byte, and with it the whole call)."""
    return twilio_values.dialled_number(params.get(name))
