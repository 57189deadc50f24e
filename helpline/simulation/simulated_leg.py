"""An adviser's phone rung by a <Dial> in a simulated call: its own status callbacks, the
screen the adviser hears, the conversation, and how the leg ends if the caller leaves first."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Generator

from helpline.simulation.simulated_call import ACCOUNT_SID, CallRun, Next, speech_seconds


class AdviserLeg:
    """One adviser's phone rung by a <Dial>: its own status callbacks, the screen, the talk."""

    def __init__(self, call: CallRun, dial: ET.Element, number: ET.Element) -> None:
        self.call = call
        self.dial = dial
        self.number = number
        self.phone = (number.text or "").strip()
        self.timeout = float(dial.get("timeout", "30"))
        self.sid = call.line.new_sid("CA")
        self.sequence = 0
        self.events = set((number.get("statusCallbackEvent") or "completed").split())
        self.params = {
            "CallSid": self.sid,
            "ParentCallSid": call.base["CallSid"],
            "AccountSid": ACCOUNT_SID,
            "From": dial.get("callerId") or call.base["To"],
            "To": self.phone,
            "Direction": "outbound-dial",
            "ApiVersion": "2010-04-01",
        }

    def status(self, status: str, event: str, seconds: float = 0) -> None:
        """The leg's own status callback, for the events the service asked for."""
        url = self.number.get("statusCallback")
        if not url or event not in self.events:
            return
        params = {
            **self.params,
            "CallStatus": status,
            "SequenceNumber": str(self.sequence),
            "CallbackSource": "call-progress-events",
            **self.call.stamp(),
        }
        if event == "completed":
            params["CallDuration"] = str(round(seconds))
        self.sequence += 1
        self.call.post(self.call.line.absolute(url), params)

    def ended(self, dial_status: str, seconds: float = 0, bridged: bool | None = None) -> Next:
        """The <Dial> is over: its action request (the caller's, if they are still there)."""
        action = self.dial.get("action")
        if not action:
            return None
        params = {
            "DialCallStatus": dial_status,
            "DialCallSid": self.sid,
            "DialCallDuration": str(round(seconds)),
        }
        if bridged is not None:
            params["DialBridged"] = "true" if bridged else "false"
        return self.call.line.absolute(action), params

    def caller_left(self) -> Next:
        """The caller hung up while the phone rang: Twilio cancels the leg."""
        self.status("canceled", "completed")
        return self.ended("canceled")

    def ring(self) -> Generator[float, None, Next]:
        call, script = self.call, self.call.script
        if call.first_dial:
            call.first_dial = False
            if script.hang_up_at == "ringing":
                call.hang_up_within(min(script.ring_seconds, self.timeout))
        caller_id = self.dial.get("callerId") or "not set"
        call.note("twilio", f"rings adviser {self.phone} (caller ID {caller_id})")
        answer = script.answer(self.phone)
        self.status("initiated", "initiated")
        if answer.behaviour == "busy":
            if not (yield from call.wait(1)):
                return self.caller_left()
            call.note("adviser", f"{self.phone}: busy")
            self.status("busy", "completed")
            return self.ended("busy")
        self.status("ringing", "ringing")
        ring = answer.ring_seconds if answer.ring_seconds is not None else script.ring_seconds
        picks_up = answer.behaviour in ("accept", "decline", "voicemail") and ring < self.timeout
        if not (yield from call.wait(ring if picks_up else self.timeout)):
            return self.caller_left()
        if not picks_up:
            call.note("adviser", f"{self.phone}: no-answer")
            self.status("no-answer", "completed")
            return self.ended("no-answer")
        answered = call.t
        who = "voicemail" if answer.behaviour == "voicemail" else "adviser"
        call.note(who, f"{self.phone} answers")
        self.status("in-progress", "answered")
        screen = answer.screen_seconds
        bridged = yield from self.screen(
            answer.behaviour, who, script.screen_seconds if screen is None else screen
        )
        if call.gone:
            self.status("completed", "completed", call.t - answered)
            return self.ended("completed", call.t - answered, bridged)
        if not bridged:
            self.status("completed", "completed", call.t - answered)
            return self.ended("completed", call.t - answered, False)
        call.note(
            "twilio", f"caller connected to {self.phone}; they talk for {script.talk_seconds} s"
        )
        if script.leave_open:
            call.open = True
            return None
        if (yield from call.wait(script.talk_seconds)):
            call.note("adviser", f"{self.phone} hangs up")
        self.status("completed", "completed", call.t - answered)
        return self.ended("completed", call.t - answered, True)

    def screen(self, behaviour: str, who: str, press_after: float) -> Generator[float, None, bool]:
        """Run the screen on the adviser's leg; True when the legs are bridged."""
        call = self.call
        url = self.number.get("url")
        if not url:
            return behaviour == "accept"
        url = call.line.absolute(url)
        doc = call.post(url, {**self.params, "CallStatus": "in-progress"})
        key = {"accept": "1", "decline": "2"}.get(behaviour, "")
        while doc is not None:
            next_url = None
            for verb in doc:
                if verb.tag == "Say":
                    if not (yield from call.say(verb, who)):
                        return False
                elif verb.tag == "Gather":
                    for inner in verb:
                        if inner.tag == "Say":
                            call.note(who, f"hears: {(inner.text or '').strip()}")
                    if key:
                        if not (yield from call.wait(press_after)):
                            return False
                        call.note(who, f"presses {key}")
                        next_url = call.line.absolute(verb.get("action") or url)
                        break
                    said = sum(speech_seconds(i.text or "") for i in verb if i.tag == "Say")
                    if not (yield from call.wait(said + float(verb.get("timeout", "5")))):
                        return False
                    call.note(who, "presses nothing")
                elif verb.tag == "Hangup":
                    call.note(who, "leg hung up by the service")
                    return False
            if next_url is None:
                return True  # the document ran out without hanging up: bridged
            doc = call.post(next_url, {**self.params, "CallStatus": "in-progress", "Digits": key})
        return False
