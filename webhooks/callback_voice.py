"""Calling a parent back: the service rings the adviser, who presses 1, then the parent.

The parent sees the county helpline's number, never the adviser's. Each attempt's result comes
from these webhooks and from the adviser's own outcome.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from callbacks import attempt_phones
from callbacks.attempt_phones import ParentLegEnd
from callbacks.calling_back import AttemptWebhooks, helpline_number
from callbacks.models import Attempt
from helpline.settings import Settings
from webhooks import twiml, wording
from webhooks.common import from_query, hang_up_fallback, url
from webhooks.edge import status_webhook, voice_webhook
from webhooks.forms import call_status, dial_result, keys

bp = Blueprint("callback_voice", __name__, url_prefix="/voice/callback")


def _attempt(session: Session) -> Attempt:
    return from_query(session, Attempt, "attempt")


def attempt_webhooks(base: str, attempt_id: int) -> AttemptWebhooks:
    """The webhooks below for one attempt, for the call that rings its adviser."""
    return AttemptWebhooks(
        answered=f"{base}/voice/callback/adviser?attempt={attempt_id}",
        status=f"{base}/voice/callback/status?attempt={attempt_id}",
    )


@bp.post("/adviser")
@voice_webhook(hang_up_fallback)
def adviser(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The adviser answered the service's call: press 1 to ring the parent."""
    attempt = _attempt(session)
    if not attempt_phones.awaits_outcome(attempt):
        return twiml.say_and_hang_up(settings, wording.CALLBACK_GONE)
    response = VoiceResponse()
    gather = Gather(
        num_digits=1, timeout=10, action=url(f"/voice/callback/connect?attempt={attempt.id}")
    )
    speaker = twiml.Speaker(settings)
    speaker.say(gather, wording.callback_prompt(settings.offices.get(attempt.callback.office)))
    response.append(gather)
    speaker.say(response, wording.CALLBACK_NOT_STARTED)
    response.hangup()
    return response


@bp.post("/connect")
@voice_webhook(hang_up_fallback)
def connect(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """1 dials the parent from the helpline's number; anything else ends the call."""
    pressed = keys(params).pressed
    attempt = _attempt(session)
    if pressed != "1":
        return twiml.say_and_hang_up(settings, wording.CALLBACK_NOT_STARTED)
    phone = attempt_phones.ring_parent(session, attempt, now)
    if phone is None:
        return twiml.say_and_hang_up(settings, wording.CALLBACK_GONE)
    response = twiml.speak(settings, wording.CALLBACK_CONNECTING)
    dial = Dial(
        action=url(f"/voice/callback/dialled?attempt={attempt.id}"),
        timeout=30,
        caller_id=helpline_number(settings, attempt.callback.office),
    )
    dial.number(phone)
    response.append(dial)
    return response


_PARENT_LEG_WORDS = {
    ParentLegEnd.TALKED: wording.CALLBACK_DONE,
    ParentLegEnd.GONE: wording.CALLBACK_GONE,
    ParentLegEnd.RETRY: wording.CALLBACK_RETRY,
    ParentLegEnd.GIVEN_UP: wording.CALLBACK_GIVEN_UP,
}


@bp.post("/dialled")
@voice_webhook(hang_up_fallback)
def dialled(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The parent's leg ended: a conversation waits for the adviser's outcome; no answer retries."""
    result = dial_result(params)
    attempt = _attempt(session)
    end = attempt_phones.parent_leg_ended(
        session, settings, attempt, result.dial_status, result.duration_s, now
    )
    if end is ParentLegEnd.ADVISER_CANCELLED:
        return VoiceResponse()
    return twiml.say_and_hang_up(settings, _PARENT_LEG_WORDS[end])


@bp.post("/status")
@status_webhook
def status(session: Session, settings: Settings, params: dict[str, str], now: datetime) -> None:
    """Status of the call to the adviser's phone; an adviser who never answered ends the try."""
    report = call_status(params)
    attempt_phones.adviser_leg_status(session, _attempt(session), report.status, report.sid, now)
