"""The telephone network as the queue sees it: a small interface with a logging stand-in."""

from __future__ import annotations

import io
import logging
import math
import re
import struct
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

log = logging.getLogger("helpline.dialer")


class DialerError(RuntimeError):
    """The call could not be placed; the message is safe to show and to log."""


@dataclass(frozen=True)
class RecordingInfo:
    """A recording as Twilio lists it."""

    sid: str
    call_sid: str
    duration_s: int
    created_at: datetime


@dataclass(frozen=True)
class CallInfo:
    """A call as Twilio describes it: who rang which number."""

    sid: str
    from_number: str
    to_number: str


@dataclass(frozen=True)
class CallProgress:
    """Where a call (or an adviser's leg) stands, as Twilio describes it."""

    sid: str
    status: str  # Twilio's word (see calls.states.TwilioCallStatus): queued, ringing, ...
    ended_at: datetime | None
    duration_s: int | None


RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class ByteRange:
    """The bytes asked for, as in an HTTP Range header: `start` to `end` inclusive (None: to
    the end); a negative `start` with no `end` asks for the last -`start` bytes."""

    start: int
    end: int | None = None

    def header(self) -> str:
        """The Range header asking for these bytes."""
        if self.start < 0 and self.end is None:
            return f"bytes={self.start}"  # "bytes=-500": the last 500
        return f"bytes={self.start}-{'' if self.end is None else self.end}"


@dataclass(frozen=True)
class RecordingAudio:
    """A recording's audio, or part of it, ready to be answered to a browser.

    `status` is 200 (all of it), 206 (the range asked for, `content_range` saying which) or
    416 (a range past its end: no audio, and `content_range` is "bytes */TOTAL").
    """

    status: int
    content_type: str
    chunks: Iterable[bytes]
    total_length: int | None
    content_range: str | None = None
    content_length: int | None = None

    def read(self) -> bytes:
        """All the bytes at once (for a short answer, or a test)."""
        return b"".join(self.chunks)


class Dialer(Protocol):
    """Places calls and manages recordings; `places_calls` is False for the logging stand-in."""

    places_calls: bool

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        """Start a call that runs the TwiML at `url`; its CallSid, or None if not placed."""
        ...

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        """Recordings created since `since` (and before `until`, when given), newest first."""
        ...

    def fetch_call(self, sid: str) -> CallInfo | None:
        """Who rang which number, for a call the webhooks never told us about."""
        ...

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        """Where a call stands, for one whose end never reached us; None when not known."""
        ...

    def delete_recording(self, sid: str) -> None:
        """Delete a recording at Twilio."""
        ...

    def fetch_recording(
        self, sid: str, byte_range: ByteRange | None = None
    ) -> RecordingAudio | None:
        """A recording's audio, all of it or `byte_range`; None when there is no such recording."""
        ...


@dataclass
class LoggingDialer:
    """Used without Twilio credentials: nothing is placed, and the log says so (no numbers)."""

    places_calls: bool = False

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        log.warning("outbound call not placed: no Twilio credentials are configured")
        return None

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        return []

    def fetch_call(self, sid: str) -> CallInfo | None:
        return None

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        return None

    def delete_recording(self, sid: str) -> None:
        log.info("recording %s not deleted at Twilio: no credentials are configured", sid)

    def fetch_recording(
        self, sid: str, byte_range: ByteRange | None = None
    ) -> RecordingAudio | None:
        # Simulated calls leave no recording at Twilio: every message plays a short soft tone.
        if not RECORDING_SID.fullmatch(sid):
            return None
        return part_of(tone_wav(), "audio/wav", byte_range)


def part_of(data: bytes, content_type: str, byte_range: ByteRange | None) -> RecordingAudio:
    """The bytes of `data` that `byte_range` asks for, answered as an HTTP server would."""
    total = len(data)
    if byte_range is None:
        return RecordingAudio(200, content_type, (data,), total, None, total)
    if byte_range.start < 0 and byte_range.end is None:
        byte_range = ByteRange(max(0, total + byte_range.start))
    if byte_range.start >= total or (
        byte_range.end is not None and byte_range.end < byte_range.start
    ):
        return RecordingAudio(416, content_type, (), total, f"bytes */{total}", 0)
    last = total - 1 if byte_range.end is None else min(byte_range.end, total - 1)
    part = data[byte_range.start : last + 1]
    return RecordingAudio(
        206, content_type, (part,), total, f"bytes {byte_range.start}-{last}/{total}", len(part)
    )


@cache
def tone_wav(seconds: float = 3.0, rate: int = 8000, pitch: float = 440.0) -> bytes:
    """A few seconds of a soft tone, faded in and out, as a 16-bit mono WAV file."""
    frames = int(seconds * rate)
    fade = rate // 10
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - 1 - n) / fade)
        value = 0.15 * envelope * math.sin(2 * math.pi * pitch * n / rate)
        samples += struct.pack("<h", int(value * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(samples))
    return out.getvalue()
