"""TwiML documents the voice webhooks answer with."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from helpline.settings import Office, Settings
from webhooks import wording


class Speaker:
    """Builds TwiML with the configured British voice."""

    def __init__(self, settings: Settings) -> None:
        self.voice = settings.voice

    def say(self, target: VoiceResponse | Gather, text: str) -> None:
        """Add a <Say> in the service's voice."""
        target.say(text, voice=self.voice, language="en-GB")


def ring(
    response: VoiceResponse,
    settings: Settings,
    phone: str,
    caller_id: str,
    *,
    action: str,
    screen: str,
    leg_status: str,
    timeout: int,
) -> VoiceResponse:
    """Ring one adviser for `timeout` seconds, screened by `screen`, showing the helpline's
    own number; the leg's own progress goes to `leg_status`, so its end is known even when
    the dial `action` never arrives."""
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id or None)
    dial.number(
        phone,
        url=screen,
        status_callback=leg_status,
        status_callback_event="initiated ringing answered completed",
        status_callback_method="POST",
    )
    response.append(dial)
    return response


def offer_callback(response: VoiceResponse, settings: Settings, *, action: str) -> None:
    """A short pause in which the caller may press 2 to be called back instead of waiting."""
    gather = Gather(num_digits=1, timeout=3, action=action)
    Speaker(settings).say(gather, wording.CALLBACK_OFFER)
    response.append(gather)


def screen(settings: Settings, office: Office, *, action: str) -> VoiceResponse:
    """The adviser's side: press 1 to take the call; anything else, or nothing, declines."""
    speaker = Speaker(settings)
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, timeout=settings.routing.screen_seconds)
    speaker.say(gather, wording.screen_prompt(office))
    speaker.say(gather, wording.screen_prompt(office))
    response.append(gather)
    speaker.say(response, wording.ADVISER_TIMEOUT)
    response.hangup()
    return response


def speak(settings: Settings, *texts: str) -> VoiceResponse:
    """A document that only speaks (more verbs may be appended)."""
    speaker = Speaker(settings)
    response = VoiceResponse()
    for text in texts:
        speaker.say(response, text)
    return response


def machine_intro(
    settings: Settings, office: Office, *, was_open: bool, in_sight: bool = True
) -> list[str]:
    """Why the caller is here, the office hours (or that it is closed until further notice,
    when it has hours but no opening in sight), signposting and the privacy notice."""
    machine = settings.answer_machine
    if in_sight or was_open or not office.hours:
        texts = [
            wording.answer_machine_intro(office, was_open),
            wording.hours_sentence(office, bank_holidays=settings.bank_holidays != "none"),
        ]
    else:
        texts = [wording.closed_until_further_notice(office)]
    texts.extend(wording.signposting(machine))
    if machine.privacy_notice:
        texts.append(machine.privacy_notice)
    return texts


def take_message(
    response: VoiceResponse,
    settings: Settings,
    *,
    action: str,
    recording_status: str,
    promise: str | None = None,
) -> VoiceResponse:
    """The promise (by default in working days), then the beep and the recording."""
    speaker = Speaker(settings)
    speaker.say(response, promise or wording.promise(settings.callbacks.promise_working_days))
    speaker.say(response, wording.FINISH)
    record(response, settings, action=action, recording_status=recording_status)
    return response


def ask_for_number(
    response: VoiceResponse, settings: Settings, *, action: str, otherwise: str, prompt: str
) -> VoiceResponse:
    """Ask a caller with a hidden number to key one in; no input carries on to `otherwise`."""
    speaker = Speaker(settings)
    gather = Gather(
        input="dtmf", finish_on_key="#", timeout=10, action=action, action_on_empty_result=True
    )
    speaker.say(gather, prompt)
    response.append(gather)
    response.redirect(otherwise)
    return response


def confirm_number(
    response: VoiceResponse, settings: Settings, spoken: str, *, action: str
) -> VoiceResponse:
    """Read the keyed number back: 1 confirms, 2 re-enters; `action` hears any key or none."""
    speaker = Speaker(settings)
    gather = Gather(
        input="dtmf", num_digits=1, timeout=6, action=action, action_on_empty_result=True
    )
    speaker.say(gather, wording.read_back(spoken))
    response.append(gather)
    response.redirect(action)
    return response


def record(
    response: VoiceResponse, settings: Settings, *, action: str, recording_status: str
) -> None:
    """The <Record> verb, with the status callback that reliably reports each message."""
    response.record(
        action=action,
        max_length=settings.answer_machine.max_message_seconds,
        finish_on_key="#",
        play_beep=True,
        timeout=10,
        recording_status_callback=recording_status,
        recording_status_callback_event="completed absent",
    )


def emergency_answer_machine(
    settings: Settings, *, action: str, recording_status: str
) -> VoiceResponse:
    """What a caller hears when something failed: an apology and a recording, no database."""
    response = speak(settings, wording.APOLOGY)
    return take_message(response, settings, action=action, recording_status=recording_status)


def say_and_hang_up(settings: Settings, *texts: str) -> VoiceResponse:
    """Speak, then end the call."""
    response = speak(settings, *texts)
    response.hangup()
    return response
