"""One call played as Twilio plays it, on a timeline: each verb takes the time it would take.

A call is a generator that yields the seconds to let pass before its next request, so that a
single call can be played alone (simulator.CallPlayer.play) or many calls side by side on one
clock (simulator.play_together). The caller may hang up at any moment of the timeline; then
Twilio's requests stop where Twilio's would, with the status callbacks it would send and no
more.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Protocol

ACCOUNT_SID = "AC" + "0" * 32
MAX_REQUESTS = 200
BEHAVIOURS = ("accept", "decline", "voicemail", "no-answer", "busy")
HANG_UP_STEPS = ("greeting", "ringing", "before-beep")
WORDS_PER_SECOND = 2.5  # a British voice reading the service's sentences

Timeline = Generator[float, None, "Result"]
Next = tuple[str, dict[str, str]] | None  # the next request of the call, or the call is over


def speech_seconds(text: str) -> int:
    """How long a <Say> of `text` takes, in whole seconds (at least one)."""
    return max(1, math.ceil(len(text.split()) / WORDS_PER_SECOND))


@dataclass(frozen=True)
class Answer:
    """What one adviser's phone does when rung: a behaviour from BEHAVIOURS, and for phones
    that pick up, after how long they do and how long the adviser then takes to press a key
    (None: the script's own times)."""

    behaviour: str
    ring_seconds: float | None = None
    screen_seconds: float | None = None


Advisers = Mapping[str, str] | Callable[[str], Answer]


@dataclass
class Script:
    """What the people on the line do, and how long each thing takes."""

    caller: str | None  # None: number withheld
    to: str
    advisers: Advisers = field(default_factory=dict)  # phone -> behaviour, or a function
    digits: list[str] = field(default_factory=list)  # caller's keys, one entry per <Gather>
    message_seconds: int = 20  # 0: hang up before the beep
    talk_seconds: int = 120
    ring_seconds: float = 8  # an adviser's phone rings this long before it picks up
    screen_seconds: float = 4  # an adviser who picks up presses their key this long after
    hang_up_after: float | None = None  # seconds after the call began, wherever it has got to
    hang_up_at: str | None = None  # one of HANG_UP_STEPS
    leave_open: bool = False  # stop once talking or recording: the call stays in progress

    def answer(self, phone: str) -> Answer:
        """What `phone` does when it rings (a phone nobody named rings out)."""
        if callable(self.advisers):
            return self.advisers(phone)
        return Answer(self.advisers.get(phone, "no-answer"))


@dataclass
class Step:
    """One thing that happened, `at` seconds into the call: `who` is caller, adviser,
    voicemail, twilio or service."""

    who: str
    text: str
    at: float = 0.0

    def __str__(self) -> str:
        return f"[{self.who}] {self.text}"

    def timed(self) -> str:
        """The step with its time into the call, as m:ss."""
        seconds = round(self.at)
        return f"{seconds // 60:>2}:{seconds % 60:02d} {self}"


@dataclass
class Result:
    """The whole call: its steps, and the requests that failed, if any."""

    call_sid: str
    steps: list[Step] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the call lasted (so far, when left in progress)
    hung_up: bool = False  # the caller hung up before the service ended the call
    left_open: bool = False  # no final status was sent: the call is still in progress

    def heard(self, who: str = "caller") -> list[str]:
        """What one party heard, in order."""
        return [
            s.text.removeprefix("hears: ")
            for s in self.steps
            if s.who == who and s.text.startswith("hears: ")
        ]

    def transcript(self) -> str:
        """Every step, one per line."""
        return "\n".join(str(step) for step in self.steps)


class Line(Protocol):
    """What a call needs from the player: signed requests, a sid maker, the time now."""

    def post(self, url: str, params: dict[str, str]) -> tuple[str, ET.Element | None]:
        """Sign and send one request: an error ('' if none) and the TwiML answer."""
        ...

    def new_sid(self, prefix: str) -> str:
        """A fresh Twilio-shaped identifier."""
        ...

    def now(self) -> datetime | None:
        """The simulated time now, if the player keeps one."""
        ...

    def absolute(self, url: str) -> str:
        """A URL from TwiML made absolute."""
        ...

    def note(self, step: Step) -> None:
        """Report a step as it happens."""
        ...


class CallRun:
    """The state of one call being played; `run()` is its timeline."""

    def __init__(self, line: Line, script: Script) -> None:
        self.line = line
        self.script = script
        self.result = Result(call_sid=line.new_sid("CA"))
        self.t = 0.0
        self.deadline = script.hang_up_after
        self.gone = False  # the caller has hung up
        self.open = False  # the call is left in progress
        self.first_say = True
        self.first_dial = True
        self.machine_seen = False
        self.digits = list(script.digits)
        self.requests = 0
        caller = script.caller or "anonymous"
        self.base = {
            "CallSid": self.result.call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller,
            "To": script.to,
            "Caller": caller,
            "Called": script.to,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    # --- plumbing ---------------------------------------------------------------------------

    def note(self, who: str, text: str) -> None:
        step = Step(who, text, self.t)
        self.result.steps.append(step)
        self.line.note(step)

    def post(self, url: str, params: dict[str, str]) -> ET.Element | None:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            if not self.result.errors or "loop" not in self.result.errors[-1]:
                self.result.errors.append("too many requests: the call seems stuck in a loop")
            return None
        error, doc = self.line.post(url, params)
        if error:
            self.result.errors.append(error)
        return doc

    def stamp(self) -> dict[str, str]:
        """Twilio's Timestamp parameter, when the player keeps the time."""
        now = self.line.now()
        return {"Timestamp": format_datetime(now.astimezone(UTC), usegmt=True)} if now else {}

    def wait(self, seconds: float) -> Generator[float, None, bool]:
        """Let time pass; False when the caller hangs up first (time passes up to then)."""
        if self.gone:
            return False
        if self.deadline is not None and self.t + seconds >= self.deadline:
            part = max(self.deadline - self.t, 0.0)
            if part:
                self.t += part
                yield part
            self.gone = self.result.hung_up = True
            self.note("caller", "hangs up")
            return False
        if seconds > 0:
            self.t += seconds
            yield seconds
        return True

    def hang_up_within(self, seconds: float) -> None:
        """Arm a named step: the caller hangs up halfway through what lasts `seconds`."""
        if self.deadline is None:
            self.deadline = self.t + seconds / 2

    # --- the caller's side ------------------------------------------------------------------

    def run(self) -> Timeline:
        """The whole call, from the first webhook to the final status callback."""
        self.note("twilio", f"call {self.result.call_sid} comes in")
        url = self.line.absolute("/voice/incoming")
        doc = self.post(url, {**self.base, "CallStatus": "ringing"})
        while doc is not None and not self.gone and not self.open:
            step = yield from self.document(doc, url)
            if step is None:
                break
            url, params = step
            status = "completed" if self.gone else "in-progress"
            doc = self.post(url, {**self.base, "CallStatus": status, **params})
        self.result.seconds = self.t
        if self.open:
            self.result.left_open = True
            self.note("twilio", "the call is left in progress: Twilio sends nothing more")
            return self.result
        self.note("twilio", "call ends")
        self.post(
            self.line.absolute("/voice/status"),
            {
                **self.base,
                "CallStatus": "completed",
                "CallDuration": str(max(round(self.t), 1)),
                "SequenceNumber": "0",
                "CallbackSource": "call-progress-events",
                **self.stamp(),
            },
        )
        return self.result

    def document(self, doc: ET.Element, url: str) -> Generator[float, None, Next]:
        """Carry out one TwiML document: the next request to make, or None when it ends."""
        if not self.machine_seen and any(verb.tag == "Record" for verb in doc):
            self.machine_seen = True
            if self.script.hang_up_at == "before-beep":
                said = sum(speech_seconds(v.text or "") for v in doc if v.tag == "Say")
                self.hang_up_within(said)
        for verb in doc:
            if self.deadline is not None and self.t >= self.deadline and not self.gone:
                yield from self.wait(0)
            if self.gone:
                return None
            if verb.tag == "Say":
                if not (yield from self.say(verb)):
                    return None
            elif verb.tag == "Pause":
                if not (yield from self.wait(float(verb.get("length", "1")))):
                    return None
            elif verb.tag == "Gather":
                step = yield from self.gather(verb, url)
                if step is not None or self.gone:
                    return step
            elif verb.tag == "Dial":
                return (yield from self.dial(verb))
            elif verb.tag == "Record":
                return (yield from self.record(verb, url))
            elif verb.tag == "Redirect":
                return self.line.absolute((verb.text or "").strip()), {}
            elif verb.tag == "Hangup":
                self.note("service", "hangs up")
                return None
            elif verb.tag != "Leave":
                self.result.errors.append(f"unexpected TwiML verb <{verb.tag}>")
        return None

    def say(self, verb: ET.Element, who: str = "caller") -> Generator[float, None, bool]:
        text = (verb.text or "").strip()
        seconds = speech_seconds(text)
        if who == "caller" and self.first_say:
            self.first_say = False
            if self.script.hang_up_at == "greeting":
                self.hang_up_within(seconds)
        self.note(who, f"hears: {text}")
        return (yield from self.wait(seconds))

    def gather(self, verb: ET.Element, url: str) -> Generator[float, None, Next]:
        for inner in verb:
            if inner.tag == "Say" and not (yield from self.say(inner)):
                return None
        pressed = self.digits.pop(0) if self.digits else ""
        action = self.line.absolute(verb.get("action") or url)
        if pressed:
            if not (yield from self.wait(max(1, math.ceil(len(pressed) / 2)))):
                return None
            self.note("caller", f"presses {pressed}")
            finish = verb.get("finishOnKey", "#")
            sent = pressed[:-1] if finish and pressed.endswith(finish) else pressed
            return action, {"Digits": sent}
        if not (yield from self.wait(float(verb.get("timeout", "5")))):
            return None
        self.note("caller", "presses nothing")
        if verb.get("actionOnEmptyResult") == "true":
            return action, {"Digits": ""}
        return None  # Twilio carries on with the next verb

    def record(self, verb: ET.Element, url: str) -> Generator[float, None, Next]:
        if self.script.message_seconds <= 0:
            self.note("caller", "hangs up before the beep")
            self.gone = self.result.hung_up = True
            return None
        self.note("caller", f"hears the beep and leaves a {self.script.message_seconds} s message")
        if self.script.leave_open:
            self.open = True
            return None
        longest = float(verb.get("maxLength", "3600"))
        started = self.t
        finished = yield from self.wait(min(self.script.message_seconds, longest))
        seconds = round(self.t - started)
        sid = self.line.new_sid("RE")
        media = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
        key = "hangup"  # the caller hung up while recording
        if finished and self.script.message_seconds > longest:
            key = ""  # the recording reached its longest
            self.note("twilio", f"the recording stops at its longest, {longest:.0f} s")
        elif finished:
            key = "#"
            self.note("caller", "presses # to finish")
        params = {
            "RecordingSid": sid,
            "RecordingUrl": media,
            "RecordingDuration": str(seconds),
            "Digits": key,
        }
        action = self.line.absolute(verb.get("action") or url)
        status = "in-progress" if finished else "completed"
        doc = self.post(action, {**self.base, "CallStatus": status, **params})
        status_url = verb.get("recordingStatusCallback")
        if status_url:
            kept = seconds > 0
            if kept:
                self.result.recording_sids.append(sid)
            self.note("twilio", f"recording {sid} {'completed' if kept else 'absent'}")
            self.post(
                self.line.absolute(status_url),
                {
                    "AccountSid": ACCOUNT_SID,
                    "CallSid": self.base["CallSid"],
                    "RecordingSid": sid,
                    "RecordingUrl": media,
                    "RecordingStatus": "completed" if kept else "absent",
                    "RecordingDuration": str(seconds),
                    "RecordingChannels": "1",
                    "RecordingSource": "RecordVerb",
                },
            )
        if doc is None or not finished:
            return None
        return (yield from self.document(doc, action))

    # --- an adviser's phone -----------------------------------------------------------------

    def dial(self, dial: ET.Element) -> Generator[float, None, Next]:
        numbers = [n for n in dial if n.tag == "Number"]
        if len(numbers) != 1:
            self.result.errors.append("the simulator rings exactly one <Number> per <Dial>")
            return None
        from helpline.simulation.simulated_leg import AdviserLeg

        leg = AdviserLeg(self, dial, numbers[0])
        return (yield from leg.ring())
