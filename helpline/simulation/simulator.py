"""Play whole calls through the voice webhooks, signed as Twilio signs them, verb by verb.

The player stands in for Twilio and for the people on the line: the caller (who may press keys,
leave a message, hang up at any moment or stay on the line) and each adviser's phone (which may
accept, decline, go to voicemail, ring out or be busy). Each verb takes the time it would take
(simulated_call.py beside this module), and a player given a SimulatedClock moves it on by
that time, so the service, whose runtime reads that clock, records the times Twilio would have
produced.
"""

from __future__ import annotations

import heapq
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from twilio.request_validator import RequestValidator

from helpline.simulation.simulated_call import (
    ACCOUNT_SID,
    BEHAVIOURS,
    HANG_UP_STEPS,
    Answer,
    CallRun,
    Result,
    Script,
    Step,
    Timeline,
)

__all__ = [
    "ACCOUNT_SID",
    "BEHAVIOURS",
    "HANG_UP_STEPS",
    "Answer",
    "CallPlayer",
    "FlaskTransport",
    "HttpTransport",
    "Result",
    "Script",
    "SimulatedClock",
    "Step",
    "new_sid",
    "play_together",
]


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


class SimulatedClock:
    """The time as the simulator plays it: the runtime's only source of now while it plays."""

    def __init__(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)  # as the wall clock gives it

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        """Move on by `seconds`."""
        self.at += timedelta(seconds=seconds)
        return self.at

    def set(self, at: datetime) -> None:
        """Move to `at` (never back: calls played side by side share one clock)."""
        self.at = max(self.at, at.astimezone(UTC))


def new_sid(prefix: str) -> str:
    """A Twilio-shaped identifier: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


class CallPlayer:
    """Plays calls from the first webhook to the final status callback.

    With a `clock`, time passes on it as the call is played; without one (a remote service, or
    a test that moves its own clock), the steps still carry their times into the call, but the
    service's timestamps are whatever its own clock says.
    """

    def __init__(
        self,
        transport: Transport,
        token: str,
        base_url: str,
        on_step: Callable[[Step], None] | None = None,
        *,
        clock: SimulatedClock | None = None,
        sids: Callable[[str], str] = new_sid,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(token)
        self.base_url = base_url.rstrip("/")
        self.on_step = on_step
        self.clock = clock
        self.sids = sids

    # The Line that each call is played on.

    def absolute(self, url: str) -> str:
        """A URL from TwiML made absolute against the service's base URL."""
        return self.base_url + url if url.startswith("/") else url

    def new_sid(self, prefix: str) -> str:
        return self.sids(prefix)

    def now(self) -> datetime | None:
        return self.clock() if self.clock else None

    def note(self, step: Step) -> None:
        if self.on_step:
            self.on_step(step)

    def post(self, url: str, params: dict[str, str]) -> tuple[str, ET.Element | None]:
        """Sign and send one webhook request: an error ('' if none) and the TwiML answer."""
        signature = self.validator.compute_signature(url, params)
        status, body = self.transport.post(url, params, {"X-Twilio-Signature": signature})
        path = urllib.parse.urlsplit(url).path
        if status >= 400:
            return f"{path} answered HTTP {status}", None
        try:
            root = ET.fromstring(body)  # noqa: S314 - our own service's TwiML
        except ET.ParseError:
            return f"{path} answered something that is not TwiML", None
        if root.tag != "Response":
            return f"{path} answered XML without <Response>", None
        return "", root

    # Playing.

    def start(self, script: Script) -> Timeline:
        """The call's timeline: a generator of the seconds to let pass, returning the Result."""
        return CallRun(self, script).run()

    def play(self, script: Script) -> Result:
        """Play the whole call (moving the clock, if any) and return what happened."""
        timeline = self.start(script)
        while True:
            try:
                seconds = next(timeline)
            except StopIteration as done:
                result: Result = done.value
                return result
            if self.clock:
                self.clock.advance(seconds)


Process = Generator[float, None, object]


def play_together(
    clock: SimulatedClock, starts: Iterable[tuple[datetime, Callable[[], Process]]]
) -> list[object]:
    """Run processes side by side on one clock, each from its start time: calls from
    CallPlayer.start, or anything else that yields the seconds until it next acts. Returns
    what each returned, in the order given."""
    queue: list[tuple[datetime, int, Process | Callable[[], Process]]] = []
    for index, (at, begin) in enumerate(starts):
        queue.append((at, index, begin))
    heapq.heapify(queue)
    results: dict[int, object] = {}
    while queue:
        at, index, item = heapq.heappop(queue)
        clock.set(at)
        process = item() if not isinstance(item, Generator) else item
        try:
            seconds = next(process)
        except StopIteration as done:
            results[index] = done.value
            continue
        heapq.heappush(queue, (clock() + timedelta(seconds=seconds), index, process))
    return [results[index] for index in sorted(results)]
