"""What the voice views share: absolute URLs, parameter checks and fallbacks."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from calls import service as calls
from calls.models import Call
from helpline.settings import Settings
from webhooks import twiml, wording
from webhooks.edge import runtime
from webhooks.security import absolute

T = TypeVar("T")


class BadRequest(ValueError):
    """A webhook arrived without something it cannot do without."""


def url(path: str) -> str:
    """Absolute URL of one of the service's own webhooks."""
    return absolute(runtime().settings, request, path)


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


def from_query(session: Session, model: type[T], name: str) -> T:
    """The row whose id the service wrote into its own URL as `?name=ID`."""
    try:
        row = session.get(model, int(request.args.get(name, "")))
    except ValueError:
        row = None
    if row is None:
        raise BadRequest(f"missing or unknown {name}")
    return row


def find_call(session: Session, params: dict[str, str]) -> Call:
    """The call named by CallSid."""
    call = calls.find_call(session, required(params, "CallSid"))
    if call is None:
        raise BadRequest("unknown CallSid")
    return call


def to_int(value: str | None) -> int:
    """A non-negative integer parameter; 0 when missing or malformed."""
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0
