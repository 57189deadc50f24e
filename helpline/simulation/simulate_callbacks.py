"""Advisers working their callbacks through a simulated week: the service places each call back
through a dialer that hands it to the player, and the call is played through the call-back
webhooks as Twilio would play it; then the adviser records how it went."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from callbacks import attempts, common, staff_actions
from callbacks.calling_back import call_back
from callbacks.models import Attempt, Callback
from callbacks.states import OPEN_STATUSES, AttemptOutcome, CallbackStatus
from helpline.db import unit_of_work
from helpline.dialer import (
    ByteRange,
    CallInfo,
    CallProgress,
    LoggingDialer,
    RecordingAudio,
    RecordingInfo,
)
from helpline.runtime import Runtime
from helpline.simulation.simulated_call import ACCOUNT_SID, Line, Step, speech_seconds
from helpline.simulation.simulator import CallPlayer
from rota import service as rota
from rota.models import Adviser, Shift
from webhooks.callback_voice import attempt_webhooks


@dataclass(frozen=True)
class Placed:
    """A call the service asked Twilio to place."""

    sid: str
    to: str
    from_: str
    url: str
    status_callback: str


@dataclass
class HandingDialer:
    """A dialer that places calls by handing them to the simulated week."""

    sids: Callable[[str], str]
    places_calls: bool = True
    placed: list[Placed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # requests of the calls back that failed

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        sid = self.sids("CA")
        self.placed.append(Placed(sid, to, from_, url, status_callback))
        return sid

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        return []

    def fetch_call(self, sid: str) -> CallInfo | None:
        return None

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        return None

    def delete_recording(self, sid: str) -> None:
        return None

    def fetch_recording(
        self, sid: str, byte_range: ByteRange | None = None
    ) -> RecordingAudio | None:
        # The simulated week leaves no recordings at Twilio: the stand-in's tone plays instead.
        return LoggingDialer().fetch_recording(sid, byte_range)


class CallBack:
    """One call back played: the adviser's phone rings, they press 1, the parent is dialled."""

    def __init__(
        self, line: Line, placed: Placed, parent: str, talk_seconds: int, errors: list[str]
    ) -> None:
        self.line = line
        self.errors = errors
        self.placed = placed
        self.parent = parent  # accept, no-answer or busy
        self.talk_seconds = talk_seconds
        self.sequence = 0
        self.parent_answered = False
        self.params = {
            "CallSid": placed.sid,
            "AccountSid": ACCOUNT_SID,
            "From": placed.from_,
            "To": placed.to,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }

    def post(self, url: str, params: dict[str, str]) -> ET.Element | None:
        error, doc = self.line.post(self.line.absolute(url), {**self.params, **params})
        if error:
            self.errors.append(error)
        return doc

    def status(self, status: str, seconds: float | None = None) -> None:
        params = {
            "CallStatus": status,
            "SequenceNumber": str(self.sequence),
            "CallbackSource": "call-progress-events",
        }
        if seconds is not None:
            params["CallDuration"] = str(round(seconds))
        self.sequence += 1
        self.post(self.placed.status_callback, params)

    def run(self) -> Generator[float, None, bool]:
        """The whole call back; True when the parent answered."""
        self.line.note(Step("twilio", f"rings adviser {self.placed.to} to call a parent back"))
        self.status("initiated")
        self.status("ringing")
        yield 5  # the adviser, who asked for the call, picks up
        self.status("in-progress")
        elapsed = 0.0
        doc = self.post(self.placed.url, {"CallStatus": "in-progress"})
        while doc is not None:
            step = None
            for verb in doc:
                if verb.tag == "Say":
                    seconds = speech_seconds(verb.text or "")
                    elapsed += seconds
                    yield seconds
                elif verb.tag == "Gather":
                    elapsed += 2
                    yield 2
                    step = (verb.get("action") or self.placed.url, {"Digits": "1"})
                    break
                elif verb.tag == "Dial":
                    dialled, params = self.dial(verb)
                    elapsed += dialled
                    yield dialled
                    step = (verb.get("action") or self.placed.url, params)
                    break
                elif verb.tag == "Hangup":
                    break
            if step is None:
                break
            url, params = step
            doc = self.post(url, {"CallStatus": "in-progress", **params})
        self.status("completed", elapsed)
        return self.parent_answered

    def dial(self, dial: ET.Element) -> tuple[float, dict[str, str]]:
        """The parent's phone: answered and talked to, rung out, or busy."""
        timeout = float(dial.get("timeout", "30"))
        params = {"DialCallSid": self.line.new_sid("CA")}
        if self.parent == "accept":
            self.parent_answered = True
            ring = 8
            params.update(
                DialCallStatus="completed",
                DialCallDuration=str(self.talk_seconds),
                DialBridged="true",
            )
            return ring + self.talk_seconds, params
        if self.parent == "busy":
            params.update(DialCallStatus="busy", DialCallDuration="0")
            return 2, params
        params.update(DialCallStatus="no-answer", DialCallDuration="0")
        return timeout, params


def _next_callback(runtime: Runtime, adviser_id: int, now: datetime) -> tuple[int, bool] | None:
    """The adviser's most urgent callback ready for an attempt, and whether it has a number."""
    with unit_of_work(runtime.sessions) as session:
        callback = session.scalar(
            select(Callback)
            .where(
                Callback.assigned_to_id == adviser_id, Callback.status == CallbackStatus.ASSIGNED
            )
            .where((Callback.next_attempt_at.is_(None)) | (Callback.next_attempt_at <= now))
            .order_by(Callback.due_at.is_(None), Callback.due_at, Callback.id)
            .limit(1)
        )
        if callback is None:
            return None
        pending = session.scalar(
            select(Attempt.id).where(Attempt.callback_id == callback.id, Attempt.outcome.is_(None))
        )
        if pending is not None:
            return None
        return callback.id, callback.phone is not None


def _next_shift(runtime: Runtime, name: str, now: datetime) -> tuple[datetime, datetime] | None:
    """When the adviser's shift in progress or next shift starts and ends; None if none."""
    with unit_of_work(runtime.sessions) as session:
        row = session.execute(
            select(Shift.starts_at, Shift.ends_at)
            .join(Adviser, Shift.adviser_id == Adviser.id)
            .where(Adviser.name == name, Adviser.left_at.is_(None), Shift.ends_at > now)
            .order_by(Shift.starts_at)
            .limit(1)
        ).first()
    return (row.starts_at, row.ends_at) if row else None


def adviser_at_work(
    runtime: Runtime,
    player: CallPlayer,
    dialer: HandingDialer,
    engaged: dict[str, datetime],
    name: str,
    rng: random.Random,
    until: datetime,
) -> Generator[float, None, int]:
    """One adviser through the week: when on shift and free, they call back their most urgent
    callback, then record how it went. Returns how many calls back they made."""
    clock = runtime.clock
    made = 0
    while clock() < until:
        shift = _next_shift(runtime, name, clock())
        if shift is None or shift[0] >= until:
            return made
        if shift[0] > clock():
            yield (shift[0] - clock()).total_seconds()  # off until their next shift
        yield rng.uniform(10, 40) * 60
        now = clock()
        with unit_of_work(runtime.sessions) as session:
            working = [a for a in rota.on_shift(session, now) if a.name == name]
        if not working or engaged.get(working[0].phone, now) > now:
            continue
        phone, adviser_id = working[0].phone, working[0].adviser_id
        ready = _next_callback(runtime, adviser_id, now)
        if ready is None:
            continue
        callback_id, has_number = ready
        if not has_number:
            with unit_of_work(runtime.sessions) as session:
                callback = common.get(session, callback_id)
                staff_actions.close(session, callback, "no number to call back on", name, now)
            continue
        try:
            call_back(runtime, callback_id, name, urls=attempt_webhooks)
        except common.CallbackError:
            continue  # taken back, or closed, since it was looked at
        placed = dialer.placed.pop()
        roll = rng.random()
        parent = "accept" if roll < 0.7 else "busy" if roll < 0.75 else "no-answer"
        talk = round(min(max(rng.lognormvariate(6.0, 0.5), 60), 1800))
        engaged[phone] = now + timedelta(hours=1)
        answered = yield from CallBack(player, placed, parent, talk, dialer.errors).run()
        made += 1
        with unit_of_work(runtime.sessions) as session:
            callback = common.get(session, callback_id)
            if answered and callback.status in OPEN_STATUSES:
                attempts.record_outcome(
                    session, runtime.settings, callback, AttemptOutcome.SPOKE, name, clock()
                )
        engaged[phone] = clock() + timedelta(seconds=rng.uniform(60, 300))
    return made
