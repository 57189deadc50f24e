"""The voice webhooks: a call comes in, advisers are rung one at a time, then the answer machine.

Each view parses Twilio's form, calls the services, and renders TwiML. Every URL below except
/voice/incoming and /voice/status is written into TwiML by the service itself.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks.messages import record_message
from calls import service as calls
from calls.models import Call, CallLeg
from helpline.phones import caller_number
from helpline.settings import Settings
from rota import service as rota
from webhooks import twiml, wording
from webhooks.edge import runtime, status_webhook, voice_webhook
from webhooks.security import absolute

log = logging.getLogger("helpline.webhooks")
bp = Blueprint("voice", __name__, url_prefix="/voice")


class BadRequest(ValueError):
    """A webhook arrived without something it cannot do without."""


def url(path: str) -> str:
    """Absolute URL of one of these webhooks."""
    return absolute(runtime().settings, request, path)


def emergency(settings: Settings) -> VoiceResponse:
    """Fallback for the caller's own webhooks: apologise and take a message."""
    return twiml.emergency_answer_machine(
        settings, action=url("/voice/recorded"), recording_status=url("/voice/recording-status")
    )


def adviser_fallback(settings: Settings) -> VoiceResponse:
    """Fallback for an adviser's leg: end it, so the caller moves on to someone else."""
    return twiml.say_and_hang_up(settings, wording.APOLOGY)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise BadRequest(f"missing {name}")
    return value


def _call(session: Session, params: dict[str, str]) -> Call:
    call = calls.find_call(session, _required(params, "CallSid"))
    if call is None:
        raise BadRequest("unknown CallSid")
    return call


def _leg(session: Session) -> CallLeg:
    try:
        leg = calls.get_leg(session, int(request.args.get("leg", "")))
    except ValueError:
        leg = None
    if leg is None:
        raise BadRequest("unknown leg")
    return leg


def _next_step(
    session: Session, settings: Settings, call: Call, now: datetime, *prefix: str
) -> VoiceResponse:
    """Ring the next free adviser, or open the answer machine."""
    leg = calls.ring_next(session, settings, call, now)
    if leg is None:
        return _answer_machine(session, settings, call, now, *prefix)
    response = twiml.ring(
        settings,
        leg.adviser.phone,
        call.to_number if settings.office_for_number(call.to_number) else "",
        action=url(f"/voice/dial-result?leg={leg.id}"),
        screen=url(f"/voice/screen?leg={leg.id}"),
    )
    speaker = twiml.Speaker(settings)
    intro = VoiceResponse()
    for text in prefix:
        speaker.say(intro, text)
    for verb in response.verbs:
        intro.append(verb)
    return intro


def _answer_machine(
    session: Session, settings: Settings, call: Call, now: datetime, *prefix: str
) -> VoiceResponse:
    calls.entered_answer_machine(session, call, now)
    office = settings.offices[call.office]
    was_open = rota.calendar(session, settings, office.key, now, days=2).is_open(now)
    machine = twiml.answer_machine(
        settings,
        office,
        was_open=was_open,
        action=url("/voice/recorded"),
        recording_status=url("/voice/recording-status"),
    )
    speaker = twiml.Speaker(settings)
    response = VoiceResponse()
    for text in prefix:
        speaker.say(response, text)
    for verb in machine.verbs:
        response.append(verb)
    return response


@bp.post("/incoming")
@voice_webhook(emergency)
def incoming(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """A call comes in: greet, then ring the first free adviser or open the answer machine."""
    sid = _required(params, "CallSid")
    call, known = calls.record_incoming(
        session, settings, sid, caller_number(params.get("From")), params.get("To", ""), now
    )
    if not known:
        log.warning("call to a number no office lists; handled as %s", call.office)
    office = settings.offices[call.office]
    greeting = wording.greeting(settings.service_name, office)
    if call.legs or call.reached_answer_machine_at:
        return _next_step(session, settings, call, now)  # Twilio retried the first request
    return _next_step(session, settings, call, now, greeting, wording.HOLD)


@bp.post("/screen")
@voice_webhook(adviser_fallback)
def screen(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """An adviser's phone answered: ask them to press 1 before the caller is put through."""
    leg = _leg(session)
    if leg.call.ended_at is not None or leg.call.answered_by_id not in (None, leg.adviser_id):
        return twiml.say_and_hang_up(settings, wording.ALREADY_TAKEN)
    calls.leg_picked_up(session, leg, now)
    return twiml.screen(
        settings,
        settings.offices[leg.call.office],
        action=url(f"/voice/screen-answer?leg={leg.id}"),
    )


@bp.post("/screen-answer")
@voice_webhook(adviser_fallback)
def screen_answer(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The adviser's key: 1 connects the caller; anything else hands the call on."""
    leg = _leg(session)
    if params.get("Digits", "").strip() == "1":
        if calls.leg_accepted(session, leg, now):
            return VoiceResponse()  # an empty document bridges the two legs
        return twiml.say_and_hang_up(settings, wording.ALREADY_TAKEN)
    calls.leg_declined(session, leg, now)
    return twiml.say_and_hang_up(settings, wording.THANK_YOU_BYE)


@bp.post("/dial-result")
@voice_webhook(emergency)
def dial_result(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """An adviser's leg ended: after a conversation say goodbye, otherwise try the next one."""
    leg = _leg(session)
    helped = calls.dial_ended(
        session, leg, params.get("DialCallStatus", ""), params.get("DialCallSid"), now
    )
    if helped:
        return twiml.say_and_hang_up(settings, wording.THANK_YOU_BYE)
    if params.get("CallStatus") in calls.TERMINAL:
        return VoiceResponse()  # the caller has gone; Twilio ignores this answer
    return _next_step(session, settings, leg.call, now)


@bp.post("/answer-machine")
@voice_webhook(emergency)
def answer_machine(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The 24-hour answer machine for this call's county."""
    return _answer_machine(session, settings, _call(session, params), now)


def after_recording(settings: Settings) -> VoiceResponse:
    """Fallback once a message exists: thank the caller whatever else failed."""
    return twiml.say_and_hang_up(settings, wording.THANKS)


@bp.post("/recorded")
@voice_webhook(after_recording)
def recorded(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The recording has ended: keep it (if the status callback has not already) and thank."""
    duration = calls._int(params.get("RecordingDuration")) or 0
    recording_sid = params.get("RecordingSid", "").strip()
    call_sid = params.get("CallSid", "").strip()
    if duration <= 0 or not params.get("RecordingUrl"):
        return twiml.say_and_hang_up(settings, wording.NO_MESSAGE)
    if recording_sid and call_sid:
        record_message(
            session,
            settings,
            recording_sid=recording_sid,
            call_sid=call_sid,
            duration_s=duration,
            now=now,
        )
    return twiml.say_and_hang_up(settings, wording.THANKS)


@bp.post("/recording-status")
@status_webhook
def recording_status(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> None:
    """Twilio's word that a recording is complete: the reliable signal that a message exists."""
    recording_sid = params.get("RecordingSid", "").strip()
    call_sid = params.get("CallSid", "").strip()
    status = params.get("RecordingStatus", "").strip()
    if not recording_sid or not call_sid:
        return
    duration = calls._int(params.get("RecordingDuration")) or 0
    if status == "completed" and duration > 0:
        record_message(
            session,
            settings,
            recording_sid=recording_sid,
            call_sid=call_sid,
            duration_s=duration,
            now=now,
        )
    else:
        calls.record_event(
            session,
            call_sid,
            "recording-" + (status or "unknown"),
            now,
            {"recording_sid": recording_sid, "duration": duration},
            key=f"recording:{recording_sid}:{status}",
        )


@bp.post("/status")
@status_webhook
def status(session: Session, settings: Settings, params: dict[str, str], now: datetime) -> None:
    """Call status changes, repeated or out of order; each one is applied once."""
    calls.record_status(session, settings, params, now)
