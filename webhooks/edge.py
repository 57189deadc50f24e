"""The webhook wrapper: signature check, one transaction, and TwiML even when things fail."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from helpline.runtime import Runtime
from helpline.settings import Settings
from webhooks.security import is_from_twilio

log = logging.getLogger("helpline.webhooks")

View = Callable[[Session, Settings, dict[str, str], datetime], VoiceResponse]
Fallback = Callable[[Settings], VoiceResponse]


def runtime() -> Runtime:
    """The runtime the app was created with."""
    value: Runtime = current_app.extensions["helpline"]
    return value


def twiml(response: VoiceResponse | str, status: int = 200) -> Response:
    """An XML response Twilio accepts."""
    return Response(str(response), status=status, mimetype="text/xml")


def log_failure(where: str, exc: BaseException) -> None:
    """Log an error by type and code location only: messages can carry numbers or notes."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    log.error("%s failed with %s at %s", where, type(exc).__name__, place)


def forbidden() -> Response:
    """The answer to a request that is not signed by Twilio."""
    log.warning("refused an unsigned or wrongly signed request to %s", request.path)
    return Response(
        "Forbidden: the request is not signed by Twilio.\n", status=403, mimetype="text/plain"
    )


def _handle(view: Callable[..., VoiceResponse | None], fallback: Fallback) -> Response:
    """Check the signature, run the view in one transaction, and answer TwiML whatever happens."""
    rt = runtime()
    if not is_from_twilio(rt.settings, request):
        return forbidden()
    params = {key: request.form.get(key, "") for key in request.form}
    session = rt.sessions()
    try:
        result = view(session, rt.settings, params, rt.clock())
        session.commit()
    except Exception as exc:
        session.rollback()
        log_failure(f"webhook {request.path}", exc)
        result = fallback(rt.settings)
    finally:
        session.close()
    return twiml(result if result is not None else VoiceResponse())


def voice_webhook(fallback: Fallback) -> Callable[[View], Callable[[], Response]]:
    """Wrap a voice view: refuse unsigned requests; on any failure answer `fallback` TwiML."""

    def decorate(view: View) -> Callable[[], Response]:
        @wraps(view)
        def handle() -> Response:
            return _handle(view, fallback)

        return handle

    return decorate


def status_webhook(
    view: Callable[[Session, Settings, dict[str, str], datetime], None],
) -> Callable[[], Response]:
    """Wrap a status callback: refuse unsigned requests; otherwise always a 2xx."""

    @wraps(view)
    def handle() -> Response:
        return _handle(view, lambda _settings: VoiceResponse())

    return handle
