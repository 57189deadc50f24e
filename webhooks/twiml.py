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
    settings: Settings, phone: str, caller_id: str, *, action: str, screen: str
) -> VoiceResponse:
    """Ring one adviser, screened by `screen`, showing the helpline's own number."""
    response = VoiceResponse()
    dial = Dial(action=action, timeout=settings.routing.ring_seconds, caller_id=caller_id or None)
    dial.number(phone, url=screen)
    response.append(dial)
    return response


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


def answer_machine(
    settings: Settings, office: Office, *, was_open: bool, action: str, recording_status: str
) -> VoiceResponse:
    """Greeting, hours, promise, privacy notice, signposting, then the recording."""
    speaker = Speaker(settings)
    machine = settings.answer_machine
    response = VoiceResponse()
    speaker.say(response, wording.answer_machine_intro(office, was_open))
    speaker.say(response, wording.hours_sentence(office))
    for sentence in wording.signposting(machine):
        speaker.say(response, sentence)
    if machine.privacy_notice:
        speaker.say(response, machine.privacy_notice)
    speaker.say(response, wording.promise(settings.callbacks.promise_working_days))
    speaker.say(response, wording.FINISH)
    record(response, settings, action=action, recording_status=recording_status)
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
    speaker = Speaker(settings)
    response = VoiceResponse()
    speaker.say(response, wording.APOLOGY)
    speaker.say(response, wording.promise(settings.callbacks.promise_working_days))
    record(response, settings, action=action, recording_status=recording_status)
    return response


def say_and_hang_up(settings: Settings, *texts: str) -> VoiceResponse:
    """Speak, then end the call."""
    speaker = Speaker(settings)
    response = VoiceResponse()
    for text in texts:
        speaker.say(response, text)
    response.hangup()
    return response


def redirect(settings: Settings, url: str, *texts: str) -> VoiceResponse:
    """Speak, then carry on at another of the service's webhooks."""
    speaker = Speaker(settings)
    response = VoiceResponse()
    for text in texts:
        speaker.say(response, text)
    response.redirect(url)
    return response
