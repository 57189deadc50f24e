"""Calling a parent back: the service rings the adviser, who presses 1, then the parent.

The parent sees the county helpline's number, never the adviser's. Each attempt's result comes
from these webhooks and from the adviser's own outcome.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from callbacks import attempts, common
from callbacks.calling_back import AttemptWebhooks, helpline_number
from callbacks.models import OPEN_STATUSES, Attempt
from calls.service import TERMINAL
from helpline.settings import Settings
from webhooks import twiml, wording
from webhooks.common import from_query, hang_up_fallback, sid, status_word, to_int, url
from webhooks.edge import status_webhook, voice_webhook

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
    callback = attempt.callback
    if callback.status not in OPEN_STATUSES or attempt.outcome is not None:
        return twiml.say_and_hang_up(settings, wording.CALLBACK_GONE)
    response = VoiceResponse()
    gather = Gather(
        num_digits=1, timeout=10, action=url(f"/voice/callback/connect?attempt={attempt.id}")
    )
    speaker = twiml.Speaker(settings)
    speaker.say(gather, wording.callback_prompt(settings.offices.get(callback.office)))
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
    attempt = _attempt(session)
    callback = attempt.callback
    if params.get("Digits", "").strip() != "1":
        return twiml.say_and_hang_up(settings, wording.CALLBACK_NOT_STARTED)
    latest = callback.attempts[-1] if callback.attempts else None
    if (
        callback.status not in OPEN_STATUSES
        or callback.phone is None
        or attempt.outcome is not None
        or latest is not attempt
    ):
        return twiml.say_and_hang_up(settings, wording.CALLBACK_GONE)
    attempt.parent_status = "dialling"  # until /dialled says how the parent's leg ended
    common.event(session, callback, "parent-dialled", "service", now, attempt_id=attempt.id)
    response = twiml.speak(settings, wording.CALLBACK_CONNECTING)
    dial = Dial(
        action=url(f"/voice/callback/dialled?attempt={attempt.id}"),
        timeout=30,
        caller_id=helpline_number(settings, callback.office),
    )
    dial.number(callback.phone)
    response.append(dial)
    return response


@bp.post("/dialled")
@voice_webhook(hang_up_fallback)
def dialled(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The parent's leg ended: a conversation waits for the adviser's outcome; no answer retries."""
    attempt = _attempt(session)
    status = status_word(params, "DialCallStatus") or "failed"
    attempt.parent_status = status
    attempt.parent_seconds = to_int(params.get("DialCallDuration"))
    callback = attempt.callback
    if status == "completed":
        return twiml.say_and_hang_up(settings, wording.CALLBACK_DONE)
    if attempt.outcome is not None or callback.status not in OPEN_STATUSES:
        return twiml.say_and_hang_up(settings, wording.CALLBACK_GONE)
    if status == "canceled":
        # The adviser hung up before the parent answered: not the parent's missed call.
        attempt.outcome = "adviser-cancelled"
        attempt.ended_at = now
        common.event(session, callback, "adviser-cancelled", "service", now, attempt_id=attempt.id)
        return VoiceResponse()
    new_status = attempts.record_outcome(
        session,
        settings,
        callback,
        "no-answer",
        "service",
        now,
        note=f"the parent's phone gave '{status}'",
        automatic=True,
    )
    text = wording.CALLBACK_GIVEN_UP if new_status == "unreachable" else wording.CALLBACK_RETRY
    return twiml.say_and_hang_up(settings, text)


@bp.post("/status")
@status_webhook
def status(session: Session, settings: Settings, params: dict[str, str], now: datetime) -> None:
    """Status of the call to the adviser's phone; an adviser who never answered ends the try."""
    attempt = _attempt(session)
    call_status = status_word(params, "CallStatus")
    if not call_status:
        return
    if attempt.call_sid is None and sid(params, "CallSid"):
        attempt.call_sid = sid(params, "CallSid")
    attempt.adviser_status = call_status
    if call_status in TERMINAL and attempt.ended_at is None:
        attempt.ended_at = now
        if attempt.parent_status is None and attempt.outcome is None:
            # The parent was never dialled (the adviser's phone did not answer, or its voicemail
            # did and pressed nothing): this try does not count against the callback's attempts.
            # Once the parent is dialled, /dialled records what happened, in whatever order.
            attempt.outcome = "adviser-missed"
            common.event(
                session,
                attempt.callback,
                "adviser-missed",
                "service",
                now,
                attempt_id=attempt.id,
                status=call_status,
            )
