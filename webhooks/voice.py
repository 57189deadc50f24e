"""The voice webhooks: a call comes in, advisers are rung one at a time, then the answer machine.

Each view parses Twilio's form, calls the services, and renders TwiML. Every URL below except
/voice/incoming and /voice/status is written into TwiML by the service itself.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks.attempts import CALLING_BACK
from callbacks.filing import request_callback
from callbacks.messages import status_reported
from calls import ringing, steps
from calls.models import CallLeg
from helpline.settings import Settings
from webhooks import forms, twiml, wording
from webhooks.answer_machine import answer_machine
from webhooks.common import (
    BadRequest,
    emergency,
    find_call,
    hang_up_fallback,
    query_id,
    url,
)
from webhooks.edge import status_webhook, voice_webhook

log = logging.getLogger("helpline.webhooks")
bp = Blueprint("voice", __name__, url_prefix="/voice")


def _leg(session: Session) -> CallLeg:
    """The leg named in the URL, its call locked for this request (see `ringing.lock_leg`)."""
    leg = ringing.lock_leg(session, query_id("leg"))
    if leg is None:
        raise BadRequest("unknown leg")
    return leg


def _leg_sid(value: str | None, leg: CallLeg) -> str | None:
    """The CallSid of the adviser's own leg, from a request made on that leg."""
    return value if value != leg.call.sid else None


def _next_step(
    session: Session,
    settings: Settings,
    step: steps.Step,
    now: datetime,
    *prefix: str,
    first: bool = False,
) -> VoiceResponse:
    """Ring the adviser the step chose, or open the answer machine.

    On the first ring the caller is asked to hold, and (if configured) offered a call back. A
    caller whose call goes to another office's advisers is told so, from the first ring on.
    """
    call, ring = step.call, step.ring
    if ring is None:
        return answer_machine(session, settings, call, now, *prefix)
    leg = ring.leg
    response = twiml.speak(settings, *prefix)
    if step.before is not None and step.before != leg.office:
        twiml.Speaker(settings).say(response, wording.trying(settings.offices[leg.office]))
    elif step.before is None and leg.office != call.office:
        notice = wording.passed_to_partner(
            settings.offices[call.office], settings.offices[leg.office], rung_open=ring.rung_open
        )
        twiml.Speaker(settings).say(response, notice)
    if first and settings.callbacks.office_hours_callback_offer:
        twiml.offer_callback(response, settings, action=url("/voice/callback-request"))
    elif first:
        twiml.Speaker(settings).say(response, wording.HOLD)
    return twiml.ring(
        response,
        settings,
        ring.phone,
        # Always a helpline number on the account, never the parent's own number.
        call.to_number or settings.offices[call.office].numbers[0],
        action=url(f"/voice/dial-result?leg={leg.id}"),
        screen=url(f"/voice/screen?leg={leg.id}"),
        leg_status=url(f"/voice/leg-status?leg={leg.id}"),
        timeout=ringing.ring_timeout(settings, call, now),
    )


@bp.post("/incoming")
@voice_webhook(emergency)
def incoming(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """A call comes in: greet, then ring the first free adviser or open the answer machine."""
    form = forms.incoming_call(params)
    step = steps.incoming_call(
        session, settings, form.sid, form.caller, form.to_number, now, CALLING_BACK
    )
    if not step.known:
        log.warning("call to a number no office lists; handled as %s", step.call.office)
    greeting = wording.greeting(settings.service_name, settings.offices[step.call.office])
    return _next_step(session, settings, step, now, greeting, first=True)


@bp.post("/callback-request")
@voice_webhook(emergency)
def callback_request(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The caller chose to be called back rather than wait (2); any other key: keep waiting."""
    pressed = forms.keys(params)
    call = find_call(session, pressed.call_sid)
    if pressed.pressed != "2":
        step = steps.next_ring(session, settings, call, now, CALLING_BACK)
        return _next_step(session, settings, step, now, wording.HOLD)
    ringing.cancel_unrung_legs(session, call, now)  # the <Dial> after the offer never ran
    callback = request_callback(session, settings, call, now)
    if callback is None:
        return answer_machine(session, settings, call, now)
    # Promise only the deadline the callback has: none while its office has no opening in sight.
    days = settings.callbacks.promise_working_days if callback.due_at is not None else None
    return twiml.say_and_hang_up(settings, wording.callback_promised(days))


@bp.post("/screen")
@voice_webhook(hang_up_fallback)
def screen(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """An adviser's phone answered: ask them to press 1 before the caller is put through."""
    leg = _leg(session)
    if leg.call.ended_at is not None or leg.call.answered_by_id not in (None, leg.adviser_id):
        return twiml.say_and_hang_up(settings, wording.ALREADY_TAKEN)
    ringing.leg_picked_up(session, leg, now, _leg_sid(forms.call_status(params).sid, leg))
    return twiml.screen(
        settings,
        settings.offices[leg.call.office],
        action=url(f"/voice/screen-answer?leg={leg.id}"),
    )


@bp.post("/screen-answer")
@voice_webhook(hang_up_fallback)
def screen_answer(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The adviser's key: 1 connects the caller; anything else hands the call on."""
    pressed = forms.keys(params)
    leg = _leg(session)
    ringing.leg_picked_up(session, leg, now, _leg_sid(pressed.call_sid, leg))
    if pressed.pressed == "1":
        if ringing.leg_accepted(session, leg, now):
            return VoiceResponse()  # an empty document bridges the two legs
        return twiml.say_and_hang_up(settings, wording.ALREADY_TAKEN)
    ringing.leg_declined(session, leg, now)
    return twiml.say_and_hang_up(settings, wording.THANK_YOU_BYE)


@bp.post("/dial-result")
@voice_webhook(emergency)
def dial_result(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """An adviser's leg ended: after a conversation say goodbye, otherwise try the next one."""
    result = forms.dial_result(params)
    dial = (result.dial_status, result.dial_sid, result.call_status)
    step = steps.leg_ended(session, settings, query_id("leg"), dial, now, CALLING_BACK)
    if step is None:
        raise BadRequest("unknown leg")
    if step is steps.Over.HELPED:
        return twiml.say_and_hang_up(settings, wording.THANK_YOU_BYE)
    if step is steps.Over.CALLER_GONE:
        return VoiceResponse()  # the caller has gone; Twilio ignores this answer
    return _next_step(session, settings, step, now)


@bp.post("/leg-status")
@status_webhook
def leg_status(session: Session, settings: Settings, params: dict[str, str], now: datetime) -> None:
    """An adviser's leg rang, answered or ended (its <Number statusCallback>); each once.

    Its end frees the adviser even when the dial result and the call's final status are lost.
    """
    report = forms.status_report(params)
    if report is None:
        return  # no usable CallSid or status: nothing to apply
    leg = _leg(session)
    if report.parent_sid is not None and report.parent_sid != leg.call.sid:
        return  # about another call: not this leg's status
    ringing.leg_status(session, leg, report, now)


@bp.post("/status")
@status_webhook
def status(session: Session, settings: Settings, params: dict[str, str], now: datetime) -> None:
    """Call status changes, repeated or out of order; each one is applied once."""
    report = forms.status_report(params)
    if report is None:
        return  # no usable CallSid or status: nothing to apply
    status_reported(session, settings, report, now)
