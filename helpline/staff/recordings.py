"""A caller's message played through the service: the browser never sees Twilio."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from accounts import audit
from callbacks.page import NotYours
from callbacks.recordings import NoRecording, RecordingUnavailable, listen, may_listen
from helpline.dialer import RECORDING_SID, ByteRange
from helpline.staff.queue import WORKERS, me, sees_all
from helpline.staff.web import db, error_page, now, requires, runtime

bp = Blueprint("staff_recordings", __name__)


def asked_range() -> ByteRange | None:
    """The one byte range the request asks for, if any (werkzeug's end is exclusive). A request
    for several ranges at once (which browsers' players never send) is answered as one for the
    whole recording, with 200, as HTTP allows; it counts as one listen."""
    asked = request.range
    if asked is None or asked.units != "bytes" or len(asked.ranges) != 1:
        return None
    start, end = asked.ranges[0]
    return ByteRange(start, None if end is None else end - 1)


@bp.get("/recordings/<sid>")
@requires(*WORKERS)
def recording(sid: str) -> ResponseReturnValue:
    """The message's audio, or the range of it asked for; one audit entry per listen. A HEAD
    is told only whether the person may listen: no audio is fetched and nothing is audited."""
    if not RECORDING_SID.fullmatch(sid):
        abort(404)  # not a recording's sid: nothing to look up (PostgreSQL refuses a NUL byte)
    account = me()
    adviser_id, all_seen = account.adviser_id, sees_all()
    db().commit()  # the service reads in a transaction of its own
    try:
        if request.method == "HEAD":
            may_listen(runtime(), sid, adviser_id, all_seen)
            return _head_answer()
        played = listen(runtime(), sid, adviser_id, all_seen, asked_range())
    except NotYours:
        abort(403)
    except NoRecording:
        abort(404)
    except RecordingUnavailable:
        return error_page(503, "The recording cannot be played just now", "Try again later.")
    if played.is_listen:
        detail = {"callback_id": played.message.callback_id}
        audit.record(db(), me(), "listen", "message", played.message.message_id, detail, at=now())
    audio = played.audio
    answer = _headers(Response(audio.chunks, status=audio.status, content_type=audio.content_type))
    if audio.content_range:
        answer.headers["Content-Range"] = audio.content_range
    if audio.content_length is not None:
        answer.headers["Content-Length"] = str(audio.content_length)
    return answer


def _headers(answer: Response) -> Response:
    """What every answer about a recording says: ranges may be asked for, and keep no copy."""
    answer.headers["Accept-Ranges"] = "bytes"
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _head_answer() -> Response:
    """200 with no body and no length or type: those would mean asking Twilio."""
    answer = _headers(Response(iter(()), status=200))
    del answer.headers["Content-Type"]
    return answer
