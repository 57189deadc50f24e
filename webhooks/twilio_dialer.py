"""Twilio's REST API behind the Dialer interface."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import requests
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.call import CallInstance

from helpline.dialer import (
    RECORDING_SID,
    ByteRange,
    CallInfo,
    CallProgress,
    DialerError,
    RecordingAudio,
    RecordingInfo,
)
from helpline.twilio_values import dialled_number, identifier, to_int

API_BASE = "https://api.twilio.com/2010-04-01"
AUDIO_CHUNK = 64 * 1024

log = logging.getLogger("helpline.dialer")


class TwilioDialer:
    """Places calls and lists or deletes recordings through Twilio."""

    places_calls = True

    def __init__(self, account_sid: str, auth_token: str, timeout: float = 10.0) -> None:
        # A timeout, so that a Twilio outage cannot hang a web request or a job.
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self._account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self._timeout = timeout

    def place_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str | None:
        try:
            call = self.client.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        except TwilioRestException as exc:
            log.error("Twilio refused an outbound call: error %s (HTTP %s)", exc.code, exc.status)
            raise DialerError(f"Twilio refused the call (error {exc.code})") from None
        except (TwilioException, RequestException) as exc:
            log.error("could not reach Twilio to place a call: %s", type(exc).__name__)
            raise DialerError("Twilio could not be reached") from None
        return str(call.sid)

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        found = []
        try:
            listed = self.client.recordings.list(
                date_created_after=since,
                date_created_before=until,
                page_size=100,
                limit=1000,
            )
        except (TwilioException, RequestException):
            raise DialerError("Twilio could not be reached to list recordings") from None
        malformed = 0
        for rec in listed:
            # Bounded as the webhooks' values are: one recording listed with an identifier
            # the database would refuse (a NUL byte) must not fail the job for all the others.
            sid, call_sid = identifier(rec.sid), identifier(rec.call_sid)
            if sid is None or call_sid is None:
                malformed += 1
                continue
            created = rec.date_created or datetime.now(UTC)
            found.append(
                RecordingInfo(
                    sid=sid,
                    call_sid=call_sid,
                    duration_s=to_int(rec.duration),
                    created_at=created,
                )
            )
        if malformed:
            log.warning("Twilio listed %s recording(s) with a malformed identifier", malformed)
        return found

    def _describe(self, sid: str) -> CallInstance | None:
        try:
            return self.client.calls(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise DialerError(f"Twilio refused to describe a call (error {exc.code})") from None
        except (TwilioException, RequestException):
            raise DialerError("Twilio could not be reached") from None

    def fetch_call(self, sid: str) -> CallInfo | None:
        call = self._describe(sid)
        if call is None:
            return None
        # From becomes a number or nothing through helpline.phones.caller_number, as a
        # webhook's does; the number dialled is bounded here as a webhook's `To` is.
        return CallInfo(
            sid=sid, from_number=str(call._from or ""), to_number=dialled_number(call.to)
        )

    def fetch_call_status(self, sid: str) -> CallProgress | None:
        call = self._describe(sid)
        if call is None:
            return None
        try:
            duration = int(call.duration) if call.duration else None
        except ValueError:
            duration = None
        ended = call.end_time if isinstance(call.end_time, datetime) else None
        return CallProgress(
            sid=sid, status=str(call.status or ""), ended_at=ended, duration_s=duration
        )

    def delete_recording(self, sid: str) -> None:
        try:
            self.client.recordings(sid).delete()
        except (TwilioException, RequestException) as exc:
            if not isinstance(exc, TwilioRestException):
                raise DialerError("Twilio could not be reached") from None
            if exc.status != 404:
                raise DialerError(
                    f"Twilio refused to delete a recording (error {exc.code})"
                ) from None

    def fetch_recording(
        self, sid: str, byte_range: ByteRange | None = None
    ) -> RecordingAudio | None:
        if not RECORDING_SID.fullmatch(sid):
            return None
        url = f"{API_BASE}/Accounts/{self._account_sid}/Recordings/{sid}.mp3"
        headers = {"Range": byte_range.header()} if byte_range is not None else {}
        try:
            response = requests.get(
                url, auth=self._auth, headers=headers, timeout=self._timeout, stream=True
            )
        except RequestException:
            raise DialerError("Twilio could not be reached to fetch a recording") from None
        status = response.status_code
        if status not in (200, 206, 416):
            response.close()
            if status == 404:
                return None
            raise DialerError(f"Twilio refused to give a recording (HTTP {status})")
        content_range = response.headers.get("Content-Range")
        length = _int(response.headers.get("Content-Length"))
        total = _total(content_range) if content_range else length
        content_type = response.headers.get("Content-Type", "audio/mpeg")
        if status == 416:
            response.close()
            return RecordingAudio(416, content_type, (), total, content_range, 0)
        return RecordingAudio(status, content_type, _stream(response), total, content_range, length)


def _stream(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_content(chunk_size=AUDIO_CHUNK)
    finally:
        response.close()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _total(content_range: str) -> int | None:
    """The whole length from a Content-Range header ("bytes 0-99/1234", "bytes */1234")."""
    return _int(content_range.rpartition("/")[2].strip())
