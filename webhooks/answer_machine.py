"""The 24-hour answer machine: greeting, a number for callers who hide theirs, the message."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks import filing
from callbacks.messages import UnseenCall, keep_recording, record_message, recording_not_kept
from calls import keyed_number
from calls import service as calls
from calls.models import Call
from helpline.phones import extra_cost, spoken_digits, uk_number
from helpline.settings import Settings
from rota import service as rota
from webhooks import twiml, wording
from webhooks.common import emergency, find_call, url
from webhooks.edge import asked, status_webhook, voice_webhook
from webhooks.forms import keys, recording_report

bp = Blueprint("answer_machine", __name__, url_prefix="/voice")


def _deadline_in_sight(session: Session, settings: Settings, call: Call, now: datetime) -> bool:
    """Whether a message left now gets a deadline: not while its office has no opening in
    sight (closed until further notice, or no hours), as the queue decides it."""
    return filing.promise(session, settings, call.office, now) is not None


def _promise(
    session: Session, settings: Settings, call: Call, now: datetime, in_sight: bool | None = None
) -> str:
    """The promise the queue will keep for a message on this call: working days when its
    callback gets a deadline, and no time at all otherwise."""
    if in_sight is None:
        in_sight = _deadline_in_sight(session, settings, call, now)
    if in_sight:
        return wording.promise(settings.callbacks.promise_working_days)
    is_open = rota.calendar(session, settings, call.office, now, days=2).is_open(now)
    return wording.promise(None, office_open=is_open)


def _message(response: VoiceResponse, settings: Settings, promise: str) -> VoiceResponse:
    return twiml.take_message(
        response,
        settings,
        action=url("/voice/recorded"),
        recording_status=url("/voice/recording-status"),
        promise=promise,
    )


def _needs_number(settings: Settings, call: Call) -> bool:
    return (
        call.from_number is None
        and call.callback_number is None
        and call.number_tries < settings.callbacks.number_entry_tries
    )


def _ask(response: VoiceResponse, settings: Settings, prompt: str) -> VoiceResponse:
    return twiml.ask_for_number(
        response,
        settings,
        action=url("/voice/callback-number"),
        otherwise=url("/voice/record"),
        prompt=prompt,
    )


def answer_machine(
    session: Session, settings: Settings, call: Call, now: datetime, *prefix: str
) -> VoiceResponse:
    """The greeting for this call's county, then a number if hidden, then the message."""
    calls.entered_answer_machine(session, call, now)
    office = settings.offices[call.office]
    was_open = rota.calendar(session, settings, office.key, now, days=2).is_open(now)
    in_sight = _deadline_in_sight(session, settings, call, now)
    response = twiml.speak(
        settings,
        *prefix,
        *twiml.machine_intro(settings, office, was_open=was_open, in_sight=in_sight),
    )
    if _needs_number(settings, call):
        return _ask(response, settings, wording.ASK_NUMBER)
    return _message(response, settings, _promise(session, settings, call, now, in_sight))


@bp.post("/answer-machine")
@voice_webhook(emergency)
def machine(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The answer machine for this call's county."""
    return answer_machine(session, settings, find_call(session, keys(params).call_sid), now)


@bp.post("/record")
@voice_webhook(emergency)
def record(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """Straight to the promise and the beep."""
    call = find_call(session, keys(params).call_sid)
    calls.entered_answer_machine(session, call, now)
    return _message(VoiceResponse(), settings, _promise(session, settings, call, now))


@bp.post("/callback-number")
@voice_webhook(emergency)
def callback_number(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The caller keyed a number (or only #): check it and read it back."""
    pressed = keys(params)
    call = find_call(session, pressed.call_sid)
    digits = pressed.digits
    promise = _promise(session, settings, call, now)
    if not digits:
        return _message(twiml.speak(settings, wording.NO_NUMBER), settings, promise)
    costly = extra_cost(digits)
    if costly is not None:
        return _refused(call, settings, wording.costly_number(costly), promise)
    number = uk_number(digits)
    if number is None:
        return _refused(call, settings, wording.NOT_A_NUMBER, promise)
    keyed_number.number_keyed(call, number)
    return twiml.confirm_number(
        VoiceResponse(),
        settings,
        spoken_digits(number),
        action=url("/voice/callback-number-confirm"),
    )


def _refused(call: Call, settings: Settings, why: str, promise: str) -> VoiceResponse:
    """A keyed number that cannot be used: a failed try; ask again while tries remain."""
    if not keyed_number.number_refused(call, settings.callbacks.number_entry_tries):
        return _message(twiml.speak(settings, why, wording.NO_NUMBER), settings, promise)
    return _ask(twiml.speak(settings, why), settings, wording.ASK_AGAIN)


@bp.post("/callback-number-confirm")
@voice_webhook(emergency)
def confirm(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """1 keeps the number read back; 2 asks for it again; any other key, or none, reads it back
    once more and then counts as a failed try, so a caller who presses nothing still reaches
    the beep."""
    form = keys(params)
    call = find_call(session, form.call_sid)
    promise = _promise(session, settings, call, now)
    if call.keyed_number is None:
        return _message(VoiceResponse(), settings, promise)
    pressed = form.pressed
    if pressed == "1":
        keyed_number.number_confirmed(session, call, now)
        return _message(twiml.speak(settings, wording.NUMBER_KEPT), settings, promise)
    read_again = asked().args.get("again") == "1"
    if pressed != "2" and not read_again:
        return twiml.confirm_number(
            twiml.speak(settings, wording.READ_AGAIN),
            settings,
            spoken_digits(call.keyed_number),
            action=url("/voice/callback-number-confirm?again=1"),
        )
    why = () if pressed == "2" else (wording.NOT_CONFIRMED,)
    if not keyed_number.number_rejected(call, settings.callbacks.number_entry_tries):
        return _message(twiml.speak(settings, *why, wording.NO_NUMBER), settings, promise)
    return _ask(twiml.speak(settings, *why), settings, wording.ASK_AGAIN)


def after_recording(settings: Settings) -> VoiceResponse:
    """Fallback once a message exists: thank the caller whatever else failed."""
    return twiml.say_and_hang_up(settings, wording.THANKS)


@bp.post("/recorded")
@voice_webhook(after_recording, keep_late=True)  # its thanks do not depend on the filing
def recorded(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> VoiceResponse:
    """The recording has ended: keep it (if the status callback has not already) and thank."""
    report = recording_report(params)
    if report.duration_s <= 0 or not report.has_url:
        return twiml.say_and_hang_up(settings, wording.NO_MESSAGE)
    if report.recording_sid and report.call_sid:
        # Should the call's first webhook have failed, only this request tells us who rang.
        unseen = UnseenCall(report.caller, report.to_number, now) if report.to_number else None
        keep_recording(
            session,
            settings,
            recording_sid=report.recording_sid,
            call_sid=report.call_sid,
            duration_s=report.duration_s,
            now=now,
            unseen=unseen,
        )
    return twiml.say_and_hang_up(settings, wording.THANKS)


@bp.post("/recording-status")
@status_webhook
def recording_status(
    session: Session, settings: Settings, params: dict[str, str], now: datetime
) -> None:
    """Twilio's word that a recording is complete: the reliable signal that a message exists."""
    report = recording_report(params)
    if not report.recording_sid or not report.call_sid:
        return
    if report.status == "completed" and report.duration_s > 0:
        record_message(
            session,
            settings,
            recording_sid=report.recording_sid,
            call_sid=report.call_sid,
            duration_s=report.duration_s,
            now=now,
        )
    else:
        recording_not_kept(
            session, report.recording_sid, report.call_sid, report.status, report.duration_s, now
        )
