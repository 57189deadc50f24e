"""Play a whole call through the voice webhooks, signed as Twilio signs it, verb by verb.

The player stands in for Twilio and for the people on the line: the caller (who may press keys
and leave a message) and each adviser's phone (which may accept, decline, go to voicemail,
ring out or be busy). It prints what the caller hears and what happens, step by step.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
MAX_REQUESTS = 60
BEHAVIOURS = ("accept", "decline", "voicemail", "no-answer", "busy")


class Transport(Protocol):
    """Sends one signed form POST and returns (HTTP status, body)."""

    def post(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, str]: ...


class FlaskTransport:
    """Posts into a Flask app in this process."""

    def __init__(self, app: object) -> None:
        self.client = app.test_client()  # type: ignore[attr-defined]

    def post(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        base = f"{parts.scheme}://{parts.netloc}"
        response = self.client.post(path, data=dict(params), headers=dict(headers), base_url=base)
        return response.status_code, response.get_data(as_text=True)


class HttpTransport:
    """Posts to a running service over HTTP, at `target` in place of the signed `base`."""

    def __init__(self, base: str, target: str) -> None:
        self.base, self.target = base.rstrip("/"), target.rstrip("/")

    def post(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, str]:
        if url.startswith(self.base):
            url = self.target + url[len(self.base) :]
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


@dataclass
class Script:
    """What the people on the line do."""

    caller: str | None  # None: number withheld
    to: str
    advisers: dict[str, str] = field(default_factory=dict)  # phone -> behaviour
    digits: list[str] = field(default_factory=list)  # caller's keys, one entry per <Gather>
    message_seconds: int = 20  # 0: hang up before the beep
    talk_seconds: int = 120


@dataclass
class Step:
    """One thing that happened: `who` is caller, adviser, twilio or service."""

    who: str
    text: str

    def __str__(self) -> str:
        return f"[{self.who}] {self.text}"


@dataclass
class Result:
    """The whole call: its steps, and the requests that failed, if any."""

    call_sid: str
    steps: list[Step] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)

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


def new_sid(prefix: str) -> str:
    """A Twilio-shaped identifier: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


class CallPlayer:
    """Plays one call from the first webhook to the final status callback."""

    def __init__(
        self,
        transport: Transport,
        token: str,
        base_url: str,
        on_step: Callable[[Step], None] | None = None,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(token)
        self.base_url = base_url.rstrip("/")
        self.on_step = on_step
        self.requests = 0

    def _note(self, result: Result, who: str, text: str) -> None:
        step = Step(who, text)
        result.steps.append(step)
        if self.on_step:
            self.on_step(step)

    def post(self, result: Result, url: str, params: dict[str, str]) -> ET.Element | None:
        """Sign and send one webhook request; the TwiML answer, or None after an error."""
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            result.errors.append("too many requests: the call seems stuck in a loop")
            return None
        if url.startswith("/"):
            url = self.base_url + url
        signature = self.validator.compute_signature(url, params)
        status, body = self.transport.post(url, params, {"X-Twilio-Signature": signature})
        path = urllib.parse.urlsplit(url).path
        if status >= 400:
            result.errors.append(f"{path} answered HTTP {status}")
            return None
        try:
            root = ET.fromstring(body)  # noqa: S314 - our own service's TwiML
        except ET.ParseError:
            result.errors.append(f"{path} answered something that is not TwiML")
            return None
        if root.tag != "Response":
            result.errors.append(f"{path} answered XML without <Response>")
            return None
        return root

    def play(self, script: Script) -> Result:
        """Play the whole call and return what happened."""
        self.requests = 0
        sid = new_sid("CA")
        result = Result(call_sid=sid)
        caller_from = script.caller or "anonymous"
        base = {
            "CallSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller_from,
            "To": script.to,
            "Caller": caller_from,
            "Called": script.to,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        digits = list(script.digits)
        self._note(result, "twilio", f"call {sid} comes in")
        doc = self.post(result, "/voice/incoming", {**base, "CallStatus": "ringing"})
        current_url = self.base_url + "/voice/incoming"
        elapsed = 0
        while doc is not None:
            nxt = self._run(result, doc, base, digits, script, current_url)
            if nxt is None:
                break
            current_url, params, elapsed_add = nxt
            elapsed += elapsed_add
            doc = self.post(result, current_url, {**base, "CallStatus": "in-progress", **params})
        self._note(result, "twilio", "call ends")
        final = {
            **base,
            "CallStatus": "completed",
            "CallDuration": str(max(elapsed, 1)),
            "SequenceNumber": "3",
            "CallbackSource": "call-progress-events",
        }
        self.post(result, "/voice/status", final)
        return result

    def _run(
        self,
        result: Result,
        doc: ET.Element,
        base: dict[str, str],
        digits: list[str],
        script: Script,
        current_url: str,
    ) -> tuple[str, dict[str, str], int] | None:
        """Carry out one TwiML document; the next request to make, or None when the call ends."""
        for verb in doc:
            tag = verb.tag
            if tag == "Say":
                self._note(result, "caller", f"hears: {(verb.text or '').strip()}")
            elif tag == "Pause":
                self._note(result, "caller", f"waits {verb.get('length', '1')} s")
            elif tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self._note(result, "caller", f"hears: {(inner.text or '').strip()}")
                pressed = digits.pop(0) if digits else ""
                if pressed:
                    self._note(result, "caller", f"presses {pressed}")
                    finish = verb.get("finishOnKey", "#")
                    sent = pressed[:-1] if finish and pressed.endswith(finish) else pressed
                    return verb.get("action") or current_url, {"Digits": sent}, 5
                self._note(result, "caller", "presses nothing")
                if verb.get("actionOnEmptyResult") == "true":
                    return verb.get("action") or current_url, {"Digits": ""}, 5
            elif tag == "Dial":
                return self._dial(result, verb, base, script, current_url)
            elif tag == "Record":
                return self._record(result, verb, base, script, current_url)
            elif tag == "Redirect":
                return (verb.text or "").strip(), {}, 0
            elif tag == "Hangup":
                self._note(result, "service", "hangs up")
                return None
            elif tag == "Leave":
                continue
            else:
                result.errors.append(f"unexpected TwiML verb <{tag}>")
        return None

    def _dial(
        self,
        result: Result,
        dial: ET.Element,
        base: dict[str, str],
        script: Script,
        current_url: str,
    ) -> tuple[str, dict[str, str], int] | None:
        numbers = [n for n in dial if n.tag == "Number"]
        outcome, duration, dial_sid = "no-answer", 0, ""
        for number in numbers:  # the service rings one adviser per <Dial>
            phone = (number.text or "").strip()
            behaviour = script.advisers.get(phone, "no-answer")
            dial_sid = new_sid("CA")
            self._note(
                result,
                "twilio",
                f"rings adviser {phone} (caller ID {dial.get('callerId') or 'not set'})",
            )
            leg = {
                "CallSid": dial_sid,
                "ParentCallSid": base["CallSid"],
                "AccountSid": ACCOUNT_SID,
                "From": dial.get("callerId") or base["To"],
                "To": phone,
                "Direction": "outbound-dial",
                "CallStatus": "in-progress",
                "ApiVersion": "2010-04-01",
            }
            if behaviour in ("no-answer", "busy"):
                self._note(result, "adviser", f"{phone}: {behaviour}")
                outcome = behaviour
                self._leg_ended(result, number, leg, behaviour, 0)
                continue
            who = "voicemail" if behaviour == "voicemail" else "adviser"
            self._note(result, who, f"{phone} answers")
            bridged = self._screen(result, number.get("url"), leg, behaviour, who)
            if bridged:
                self._note(
                    result,
                    "twilio",
                    f"caller connected to {phone}; they talk for {script.talk_seconds} s",
                )
                outcome, duration = "completed", script.talk_seconds
                self._leg_ended(result, number, leg, "completed", duration)
                break
            self._leg_ended(result, number, leg, "completed", 0)  # answered, then hung up
            outcome = "no-answer"
        action = dial.get("action")
        params = {
            "DialCallStatus": outcome,
            "DialCallSid": dial_sid,
            "DialCallDuration": str(duration),
        }
        if outcome == "completed":
            params["DialBridged"] = "true"
        if action:
            return action, params, duration
        return None

    def _leg_ended(
        self, result: Result, number: ET.Element, leg: dict[str, str], status: str, seconds: int
    ) -> None:
        """The adviser's leg ends: its own status callback, if the service asked for one."""
        url = number.get("statusCallback")
        if url:
            final = {
                **leg,
                "CallStatus": status,
                "CallDuration": str(seconds),
                "SequenceNumber": "3" if status == "completed" else "2",
                "CallbackSource": "call-progress-events",
            }
            self.post(result, url, final)

    def _screen(
        self, result: Result, url: str | None, leg: dict[str, str], behaviour: str, who: str
    ) -> bool:
        """Run the screen on the adviser's leg; True when the legs are bridged."""
        if not url:
            return behaviour == "accept"
        doc = self.post(result, url, leg)
        while doc is not None:
            next_url = None
            for verb in doc:
                if verb.tag == "Say":
                    self._note(result, who, f"hears: {(verb.text or '').strip()}")
                elif verb.tag == "Gather":
                    for inner in verb:
                        if inner.tag == "Say":
                            self._note(result, who, f"hears: {(inner.text or '').strip()}")
                    key = {"accept": "1", "decline": "2"}.get(behaviour, "")
                    if key:
                        self._note(result, who, f"presses {key}")
                        next_url = verb.get("action") or url
                        break
                    self._note(result, who, "presses nothing")
                elif verb.tag == "Hangup":
                    self._note(result, who, "leg hung up by the service")
                    return False
            if next_url is None:
                return True  # the document ran out without hanging up: bridged
            doc = self.post(
                result, next_url, {**leg, "Digits": {"accept": "1"}.get(behaviour, "2")}
            )
        return False

    def _record(
        self,
        result: Result,
        record: ET.Element,
        base: dict[str, str],
        script: Script,
        current_url: str,
    ) -> tuple[str, dict[str, str], int] | None:
        if script.message_seconds <= 0:
            self._note(result, "caller", "hangs up before the beep")
            return None
        self._note(
            result, "caller", f"hears the beep and leaves a {script.message_seconds} s message"
        )
        recording_sid = new_sid("RE")
        result.recording_sids.append(recording_sid)
        media = (
            f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        )
        status_url = record.get("recordingStatusCallback")
        action = record.get("action") or current_url
        params = {
            "RecordingSid": recording_sid,
            "RecordingUrl": media,
            "RecordingDuration": str(script.message_seconds),
            "Digits": "hangup",
        }
        doc = self.post(result, action, {**base, "CallStatus": "in-progress", **params})
        if doc is not None:
            self._run(result, doc, base, [], script, action)
        if status_url:
            self._note(result, "twilio", f"recording {recording_sid} completed")
            self.post(
                result,
                status_url,
                {
                    "AccountSid": ACCOUNT_SID,
                    "CallSid": base["CallSid"],
                    "RecordingSid": recording_sid,
                    "RecordingUrl": media,
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(script.message_seconds),
                    "RecordingChannels": "1",
                    "RecordingSource": "RecordVerb",
                },
            )
        return None
