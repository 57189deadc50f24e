"""One contract for every Dialer: the logging stand-in and Twilio's REST API (mocked, no network).

Each test runs against both implementations. A `Harness` knows what Twilio would answer and
registers it with `responses`; for the logging stand-in it registers nothing, so any HTTP
request it made would fail the test. Tests then check what the contract promises for each:
a CallSid or None, DialerError for refusals (with no phone number in it), recordings, calls,
deletions, and logs that never carry a phone number.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from helpline.dialer import (
    ByteRange,
    CallInfo,
    CallProgress,
    Dialer,
    DialerError,
    LoggingDialer,
    RecordingInfo,
    tone_wav,
)
from tests.constants import (
    ACCOUNT,
    ANN,
    API,
    BASE_URL,
    CALLS_URL,
    HEREFORD,
    PARENT,
    RECORDINGS_URL,
    TOKEN,
)
from webhooks.twilio_dialer import TwilioDialer

CALL_URL = f"{BASE_URL}/voice/callback/adviser?attempt=7"
STATUS_URL = f"{BASE_URL}/voice/callback/status?attempt=7"
CALL_SID = "CA" + "1" * 32
REC_SID_1 = "RE" + "1" * 32
REC_SID_2 = "RE" + "2" * 32
EVENTS = ["initiated", "ringing", "answered", "completed"]
SINCE = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    """An error body as Twilio sends it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def call_json(sid: str, to: str, from_: str, status: str = "queued") -> dict[str, Any]:
    """A call resource as Twilio returns it (only the fields that matter here, plus a few)."""
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "to": to,
        "to_formatted": to,
        "from": from_,
        "from_formatted": from_,
        "status": status,
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": "Mon, 30 Nov 2026 10:00:00 +0000",
        "date_updated": "Mon, 30 Nov 2026 10:00:00 +0000",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json",
    }


def recording_json(sid: str, call_sid: str, duration: str, created: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "account_sid": ACCOUNT,
        "call_sid": call_sid,
        "duration": duration,
        "date_created": created,
        "date_updated": created,
        "status": "completed",
        "channels": 1,
        "source": "RecordVerb",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}.json",
    }


@dataclass
class Harness:
    """One Dialer implementation and the (mocked) Twilio behind it, if any."""

    name: str
    dialer: Dialer
    rs: responses.RequestsMock

    @property
    def twilio(self) -> bool:
        return self.name == "twilio"

    def requests_made(self) -> list[Any]:
        return [call.request for call in self.rs.calls]

    # What Twilio answers. For the logging dialer nothing is registered: it must not ask.

    def accept_calls(self, sid: str = CALL_SID) -> None:
        if self.twilio:
            self.rs.add(responses.POST, CALLS_URL, status=201, json=call_json(sid, ANN, HEREFORD))

    def refuse_calls(self, status: int, code: int, message: str) -> None:
        if self.twilio:
            self.rs.add(
                responses.POST,
                CALLS_URL,
                status=status,
                json=twilio_error(code, message, status),
            )

    def fail_to_connect(self) -> None:
        if self.twilio:
            self.rs.add(
                responses.POST, CALLS_URL, body=requests.ConnectionError("connection refused")
            )

    def list_recordings(self) -> None:
        if self.twilio:
            self.rs.add(
                responses.GET,
                RECORDINGS_URL,
                status=200,
                json={
                    "recordings": [
                        recording_json(
                            REC_SID_2, "CA" + "b" * 32, "7", "Mon, 30 Nov 2026 09:30:00 +0000"
                        ),
                        recording_json(
                            REC_SID_1, "CA" + "a" * 32, "42", "Sun, 29 Nov 2026 22:15:05 +0000"
                        ),
                    ],
                    "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT}/Recordings.json?Page=0",
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "page": 0,
                    "page_size": 100,
                    "start": 0,
                    "end": 1,
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Recordings.json?Page=0",
                },
            )

    def describe_call(self, sid: str, from_: str, to: str) -> None:
        if self.twilio:
            self.rs.add(
                responses.GET,
                f"{API}/Calls/{sid}.json",
                status=200,
                json=call_json(sid, to, from_, status="completed"),
            )

    def call_progress(
        self, sid: str, status: str, end_time: str | None, duration: str | None
    ) -> None:
        if self.twilio:
            body = call_json(sid, ANN, HEREFORD, status=status)
            body.update(
                start_time="Mon, 30 Nov 2026 10:00:05 +0000", end_time=end_time, duration=duration
            )
            self.rs.add(responses.GET, f"{API}/Calls/{sid}.json", status=200, json=body)

    def describe_call_fails(self, sid: str, status: int | None) -> None:
        if self.twilio:
            url = f"{API}/Calls/{sid}.json"
            if status is None:
                self.rs.add(responses.GET, url, body=requests.ConnectionError("refused"))
            else:
                self.rs.add(
                    responses.GET, url, status=status, json=twilio_error(20500, "oops", status)
                )

    def call_not_found(self, sid: str) -> None:
        if self.twilio:
            self.rs.add(
                responses.GET,
                f"{API}/Calls/{sid}.json",
                status=404,
                json=twilio_error(20404, "The requested resource was not found", 404),
            )

    def delete_answers(self, sid: str, status: int) -> None:
        if self.twilio:
            if status == 204:
                self.rs.add(responses.DELETE, f"{API}/Recordings/{sid}.json", status=204)
            else:
                self.rs.add(
                    responses.DELETE,
                    f"{API}/Recordings/{sid}.json",
                    status=status,
                    json=twilio_error(20000 + status, "refused", status),
                )

    # A recording's audio, which the Twilio stand-in serves as Twilio does: whole, or the range
    # asked for; the logging dialer plays its own short tone for any recording.

    @property
    def audio(self) -> bytes:
        return TWILIO_AUDIO if self.twilio else tone_wav()

    def serve_recording(self, sid: str) -> None:
        if self.twilio:
            self.rs.add_callback(responses.GET, f"{API}/Recordings/{sid}.mp3", callback=_media)

    def recording_fails(self, sid: str, status: int | None) -> None:
        if self.twilio:
            url = f"{API}/Recordings/{sid}.mp3"
            if status is None:
                self.rs.add(responses.GET, url, body=requests.ConnectionError("refused"))
            else:
                self.rs.add(
                    responses.GET, url, status=status, json=twilio_error(20000, "no", status)
                )


TWILIO_AUDIO = b"ID3" + bytes(range(256)) * 8


def _media(request: Any) -> tuple[int, dict[str, str], bytes]:
    total = len(TWILIO_AUDIO)
    asked = request.headers.get("Range")
    if asked is None:
        return 200, {"Content-Type": "audio/mpeg", "Content-Length": str(total)}, TWILIO_AUDIO
    first, _, last = asked.removeprefix("bytes=").partition("-")
    if not first:  # the last N bytes
        start, end = max(0, total - int(last)), total - 1
    else:
        start, end = int(first), int(last) if last else total - 1
    if start >= total:
        return 416, {"Content-Range": f"bytes */{total}"}, b""
    end = min(end, total - 1)
    part = TWILIO_AUDIO[start : end + 1]
    headers = {
        "Content-Type": "audio/mpeg",
        "Content-Range": f"bytes {start}-{end}/{total}",
        "Content-Length": str(len(part)),
    }
    return 206, headers, part


@pytest.fixture(params=["logging", "twilio"])
def harness(request: pytest.FixtureRequest, twilio: responses.RequestsMock) -> Harness:
    """Each implementation, with every HTTP request intercepted (an unexpected one fails)."""
    dialer: Dialer = LoggingDialer() if request.param == "logging" else TwilioDialer(ACCOUNT, TOKEN)
    return Harness(request.param, dialer, twilio)


def place(dialer: Dialer) -> str | None:
    return dialer.place_call(to=ANN, from_=HEREFORD, url=CALL_URL, status_callback=STATUS_URL)


def form(request: Any) -> dict[str, list[str]]:
    body = request.body
    if isinstance(body, bytes):
        body = body.decode()
    return parse_qs(body or "", keep_blank_values=True)


def expected_authorization() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


def test_places_calls_says_which_kind_of_dialer_it_is(harness: Harness) -> None:
    assert harness.dialer.places_calls is harness.twilio


def test_place_call_returns_the_call_sid_or_none_when_not_placed(harness: Harness) -> None:
    harness.accept_calls()

    sid = place(harness.dialer)

    if harness.dialer.places_calls:
        assert sid == CALL_SID
        assert isinstance(sid, str)
    else:
        assert sid is None
        assert harness.requests_made() == []


def test_place_call_sends_one_authenticated_form_post_to_calls_json(harness: Harness) -> None:
    harness.accept_calls()

    place(harness.dialer)

    sent = harness.requests_made()
    if not harness.twilio:
        assert sent == []
        return
    assert len(sent) == 1
    (request,) = sent
    assert request.method == "POST"
    assert urlsplit(request.url)._replace(query="").geturl() == CALLS_URL
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["Authorization"] == expected_authorization()
    fields = form(request)
    assert fields["To"] == [ANN]
    assert fields["From"] == [HEREFORD]
    assert fields["Url"] == [CALL_URL]
    assert fields["StatusCallback"] == [STATUS_URL]
    assert fields["StatusCallbackEvent"] == EVENTS  # a list value repeats the key
    # Twilio's defaults are POST, but the webhooks only answer POST: say so explicitly.
    assert fields.get("Method", ["POST"]) == ["POST"]
    assert fields.get("StatusCallbackMethod", ["POST"]) == ["POST"]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 21211, "Invalid 'To' Phone Number: +447700900001"),
        (400, 21212, "Invalid 'From' Phone Number"),
        (401, 20003, "Authenticate"),
        (429, 20429, "Too Many Requests"),
        (500, 20500, "Internal Server Error"),
    ],
)
def test_a_refused_call_raises_dialer_error_with_the_code_and_no_number(
    harness: Harness, status: int, code: int, message: str
) -> None:
    harness.refuse_calls(status, code, message)

    if not harness.dialer.places_calls:
        assert place(harness.dialer) is None
        return
    with pytest.raises(DialerError) as raised:
        place(harness.dialer)

    text = str(raised.value)
    assert str(code) in text
    assert ANN not in text
    assert ANN[1:] not in text
    assert HEREFORD not in text
    assert raised.value.__cause__ is None or ANN not in str(raised.value.__cause__)
    assert len(harness.requests_made()) == 1


def test_twilio_out_of_reach_raises_dialer_error(harness: Harness) -> None:
    harness.fail_to_connect()

    if not harness.dialer.places_calls:
        assert place(harness.dialer) is None
        return
    with pytest.raises(DialerError) as raised:
        place(harness.dialer)
    assert ANN not in str(raised.value)


def test_recent_recordings_is_a_list_of_recording_info(harness: Harness) -> None:
    harness.list_recordings()

    found = harness.dialer.recent_recordings(SINCE)

    assert isinstance(found, list)
    assert all(isinstance(item, RecordingInfo) for item in found)
    if not harness.twilio:
        assert found == []
        assert harness.requests_made() == []
        return
    assert found == [
        RecordingInfo(
            sid=REC_SID_2,
            call_sid="CA" + "b" * 32,
            duration_s=7,
            created_at=datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
        ),
        RecordingInfo(
            sid=REC_SID_1,
            call_sid="CA" + "a" * 32,
            duration_s=42,
            created_at=datetime(2026, 11, 29, 22, 15, 5, tzinfo=UTC),
        ),
    ]
    assert all(item.created_at.utcoffset() is not None for item in found)
    (request,) = harness.requests_made()
    assert request.method == "GET"
    assert request.headers["Authorization"] == expected_authorization()
    query = parse_qs(urlsplit(request.url).query)
    assert query["DateCreated>"] == ["2026-11-28T00:00:00Z"]


def test_fetch_call_describes_a_known_call(harness: Harness) -> None:
    harness.describe_call(CALL_SID, from_=PARENT, to=HEREFORD)

    info = harness.dialer.fetch_call(CALL_SID)

    if not harness.twilio:
        assert info is None
        return
    assert info == CallInfo(sid=CALL_SID, from_number=PARENT, to_number=HEREFORD)
    (request,) = harness.requests_made()
    assert request.method == "GET"
    assert request.headers["Authorization"] == expected_authorization()


def test_fetch_call_of_an_unknown_call_is_none(harness: Harness) -> None:
    harness.call_not_found(CALL_SID)

    assert harness.dialer.fetch_call(CALL_SID) is None


@pytest.mark.parametrize("status", [204, 404])
def test_delete_recording_succeeds_when_deleted_or_already_gone(
    harness: Harness, status: int
) -> None:
    harness.delete_answers(REC_SID_1, status)

    assert harness.dialer.delete_recording(REC_SID_1) is None

    if harness.twilio:
        (request,) = harness.requests_made()
        assert request.method == "DELETE"
        assert request.url == f"{API}/Recordings/{REC_SID_1}.json"
        assert request.headers["Authorization"] == expected_authorization()
    else:
        assert harness.requests_made() == []


@pytest.mark.parametrize("status", [401, 403, 500])
def test_delete_recording_raises_dialer_error_on_other_errors(
    harness: Harness, status: int
) -> None:
    harness.delete_answers(REC_SID_1, status)

    if not harness.twilio:
        harness.dialer.delete_recording(REC_SID_1)
        return
    with pytest.raises(DialerError) as raised:
        harness.dialer.delete_recording(REC_SID_1)
    assert str(20000 + status) in str(raised.value)


def test_no_phone_number_reaches_the_log_when_placing_a_call(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.accept_calls()
    caplog.set_level(logging.DEBUG)

    place(harness.dialer)

    text = "\n".join(record.getMessage() for record in caplog.records)
    for number in (ANN, HEREFORD, ANN[1:], HEREFORD[1:]):
        assert number not in text


def test_no_phone_number_reaches_the_log_when_a_call_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.refuse_calls(400, 21211, f"Invalid 'To' Phone Number: {ANN}")
    caplog.set_level(logging.DEBUG)

    with contextlib.suppress(DialerError):
        place(harness.dialer)

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert ANN not in text
    assert ANN[1:] not in text
    assert HEREFORD not in text


def test_logging_dialer_logs_not_placed_without_any_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dialer = LoggingDialer()
    caplog.set_level(logging.DEBUG, logger="helpline.dialer")

    assert place(dialer) is None

    records = [r for r in caplog.records if r.name == "helpline.dialer"]
    assert records, "the logging dialer said nothing"
    text = "\n".join(r.getMessage() for r in records)
    assert "not placed" in text
    assert max(r.levelno for r in records) >= logging.WARNING
    for number in (ANN, HEREFORD, ANN[1:], HEREFORD[1:], "7700900001", "1632960001"):
        assert number not in text


def test_fetch_call_status_says_when_and_how_a_call_ended(harness: Harness) -> None:
    harness.call_progress(CALL_SID, "completed", "Mon, 30 Nov 2026 10:12:35 +0000", "750")

    progress = harness.dialer.fetch_call_status(CALL_SID)

    if not harness.twilio:
        assert progress is None
        assert harness.requests_made() == []
        return
    assert progress == CallProgress(
        sid=CALL_SID,
        status="completed",
        ended_at=datetime(2026, 11, 30, 10, 12, 35, tzinfo=UTC),
        duration_s=750,
    )
    assert progress.ended_at is not None and progress.ended_at.utcoffset() is not None
    (request,) = harness.requests_made()
    assert request.method == "GET"
    assert request.url == f"{API}/Calls/{CALL_SID}.json"
    assert request.headers["Authorization"] == expected_authorization()


def test_fetch_call_status_of_a_call_still_going_has_no_end(harness: Harness) -> None:
    harness.call_progress(CALL_SID, "in-progress", None, None)

    progress = harness.dialer.fetch_call_status(CALL_SID)

    if harness.twilio:
        assert progress == CallProgress(CALL_SID, "in-progress", None, None)
    else:
        assert progress is None


def test_fetch_call_status_of_an_unknown_call_is_none(harness: Harness) -> None:
    harness.call_not_found(CALL_SID)

    assert harness.dialer.fetch_call_status(CALL_SID) is None


@pytest.mark.parametrize("status", [401, 500, None], ids=["refused", "failed", "unreachable"])
def test_fetch_call_status_raises_dialer_error_when_twilio_cannot_say(
    harness: Harness, status: int | None
) -> None:
    harness.describe_call_fails(CALL_SID, status)

    if not harness.twilio:
        assert harness.dialer.fetch_call_status(CALL_SID) is None
        return
    with pytest.raises(DialerError):
        harness.dialer.fetch_call_status(CALL_SID)


def test_fetch_recording_gives_the_whole_audio_with_its_length(harness: Harness) -> None:
    harness.serve_recording(REC_SID_1)

    audio = harness.dialer.fetch_recording(REC_SID_1)

    assert audio is not None
    assert audio.status == 200 and audio.content_type.startswith("audio/")
    assert audio.read() == harness.audio
    assert audio.total_length == len(harness.audio) and audio.content_range is None
    if harness.twilio:
        (request,) = harness.requests_made()
        assert request.method == "GET"
        assert request.url == f"{API}/Recordings/{REC_SID_1}.mp3"
        assert request.headers["Authorization"] == expected_authorization()
        assert "Range" not in request.headers
        assert request.req_kwargs["timeout"]  # a Twilio outage cannot hang the page
    else:
        assert harness.requests_made() == []


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [(ByteRange(10, 19), 10, 19), (ByteRange(100), 100, None), (ByteRange(-50), -50, None)],
)
def test_fetch_recording_gives_the_range_asked_for_as_a_partial_answer(
    harness: Harness, asked: ByteRange, first: int, last: int | None
) -> None:
    harness.serve_recording(REC_SID_1)

    audio = harness.dialer.fetch_recording(REC_SID_1, asked)

    total = len(harness.audio)
    end = total - 1 if last is None else last
    first = first if first >= 0 else total + first
    assert audio is not None and audio.status == 206
    assert audio.read() == harness.audio[first : end + 1]
    assert audio.content_range == f"bytes {first}-{end}/{total}"
    assert audio.total_length == total
    if harness.twilio:
        (request,) = harness.requests_made()
        assert request.headers["Range"] == asked.header()


def test_fetch_recording_of_a_range_past_the_end_is_not_satisfiable(harness: Harness) -> None:
    harness.serve_recording(REC_SID_1)

    audio = harness.dialer.fetch_recording(REC_SID_1, ByteRange(10**7))

    assert audio is not None and audio.status == 416
    assert audio.read() == b""
    assert audio.content_range == f"bytes */{len(harness.audio)}"


def test_fetch_recording_of_an_unknown_or_malformed_recording_is_none(harness: Harness) -> None:
    harness.recording_fails(REC_SID_2, 404)

    assert harness.dialer.fetch_recording("RE../../Calls") is None
    if harness.twilio:
        assert harness.dialer.fetch_recording(REC_SID_2) is None
        assert len(harness.requests_made()) == 1  # the malformed one never left the service


@pytest.mark.parametrize("status", [401, 500, None], ids=["refused", "failed", "unreachable"])
def test_fetch_recording_raises_dialer_error_when_twilio_cannot_give_it(
    harness: Harness, status: int | None
) -> None:
    harness.recording_fails(REC_SID_1, status)

    if not harness.twilio:
        assert harness.dialer.fetch_recording(REC_SID_1) is not None
        return
    with pytest.raises(DialerError) as raised:
        harness.dialer.fetch_recording(REC_SID_1)
    assert TOKEN not in str(raised.value) and ACCOUNT not in str(raised.value)


def test_the_stand_ins_sound_is_a_few_seconds_of_wav() -> None:
    import io
    import wave

    with wave.open(io.BytesIO(tone_wav())) as sound:
        seconds = sound.getnframes() / sound.getframerate()
        frames = sound.readframes(sound.getnframes())
    assert 1 <= seconds <= 10
    assert any(frames)  # not silence
