"""The webhook wrapper: signature check, one transaction, and TwiML even when things fail."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from helpline.db import flush
from helpline.logs import describe_failure
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


@dataclass(frozen=True)
class Asked:
    """What a view may read of its request besides the form: the service's own base URL (for
    the URLs it writes into TwiML) and the query string's values. Views run on a worker
    thread, without Flask's request context, and read it with `asked()`."""

    base_url: str
    args: dict[str, str]


_asked: contextvars.ContextVar[Asked] = contextvars.ContextVar("webhook_asked")


def asked() -> Asked:
    """The request the webhook being handled was asked with."""
    return _asked.get()


@contextlib.contextmanager
def _asking(value: Asked) -> Iterator[contextvars.Context]:
    """`asked()` gives `value` in this thread meanwhile (for the fallback), and in the context
    it yields, for the worker thread that runs the view. That context holds nothing else: not
    Flask's request or application context, which a view must not reach for (the request
    thread may have answered and torn them down while late work goes on)."""
    token = _asked.set(value)
    fresh = contextvars.Context()
    fresh.run(_asked.set, value)
    try:
        yield fresh
    finally:
        _asked.reset(token)


def twiml(response: VoiceResponse | str, status: int = 200) -> Response:
    """An XML response Twilio accepts."""
    return Response(str(response), status=status, mimetype="text/xml")


def log_failure(where: str, exc: BaseException) -> None:
    """Log an error by type and code location only: messages can carry numbers or notes."""
    log.error("%s failed: %s", where, describe_failure(exc))


def forbidden() -> Response:
    """The answer to a request that is not signed by Twilio."""
    log.warning("refused an unsigned or wrongly signed request to %s", request.path)
    return Response(
        "Forbidden: the request is not signed by Twilio.\n", status=403, mimetype="text/plain"
    )


# A commit still under way at the deadline is waited for, because the answer must match what
# it stores; the database's own limits end it long before this, and Twilio gives up at 15 s.
LAST_ANSWER_S = 12.0


class _Work:
    """One webhook's view and transaction, run by a worker thread so that the request can
    answer at its deadline whatever the database does. Work that is too late is rolled back,
    unless `keep_late` says nobody is waiting on its answer (a status callback). Work already
    committing when the deadline passes is not too late: its answer is waited for."""

    def __init__(self, view: Callable[..., VoiceResponse | None], keep_late: bool) -> None:
        self.view = view
        self.keep_late = keep_late
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.too_late = False
        self.committing = False
        self.failed = False
        self.result: VoiceResponse | None = None

    def run(self, rt: Runtime, params: dict[str, str], path: str) -> None:
        worker = threading.current_thread()
        idle_name, worker.name = worker.name, f"webhook {path}"  # named by its work meanwhile
        try:
            self._run(rt, params, path)
        finally:
            worker.name = idle_name

    def _run(self, rt: Runtime, params: dict[str, str], path: str) -> None:
        with self.lock:
            if self.too_late and not self.keep_late:
                # It waited for a free worker past its deadline: the fallback has answered.
                self.finished.set()
                return
        session = rt.sessions()
        try:
            result = self.view(session, rt.settings, params, rt.clock())
            with self.lock:
                undo = self.too_late and not self.keep_late
                self.committing = not undo
            if undo:
                session.rollback()
                log.warning("webhook %s finished after its deadline; its work was undone", path)
            else:
                flush(session)  # plain changes through psycopg, as the view's own statements
                session.commit()
            self.result = result
        except Exception as exc:
            # Failed before anything else can fail: a connection the database dropped can
            # fail again on the rollback, and the caller must hear the fallback, not silence.
            self.failed = True
            log_failure(f"webhook {path}", exc)
            with contextlib.suppress(Exception):  # closing the session discards the work too
                session.rollback()
        finally:
            try:
                session.close()
            finally:
                self.finished.set()

    def wait(self, seconds: float, commit_seconds: float) -> bool:
        """Whether the work finished in time. If not, it is marked too late, unless it is
        already committing: then whatever the commit does decides the answer, so it is waited
        for, up to `commit_seconds` more."""
        if self.finished.wait(seconds):
            return True
        with self.lock:
            if self.finished.is_set():
                return True
            if not self.committing or self.keep_late:
                self.too_late = True
                return False
        if self.finished.wait(commit_seconds):
            return True
        log.error("a commit was still under way %.0f s after its deadline", commit_seconds)
        return False


# One worker for each connection the process's pool can open ([database] pool_size +
# max_overflow): work beyond that waits for a worker rather than failing for want of a
# connection, so a status callback is applied late rather than lost, and a caller's work that
# waited past its deadline is not started (the fallback has answered). Idle workers are reused.
_pool: tuple[int, int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _workers(size: int) -> ThreadPoolExecutor:
    """The process's `size` webhook workers, started on first use; a forked process (a gunicorn
    worker of a preloaded app) starts its own, since threads do not survive a fork."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[:2] != (os.getpid(), size):
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)  # its work goes on; its threads then end
            _pool = (
                os.getpid(),
                size,
                ThreadPoolExecutor(size, thread_name_prefix="webhook-worker"),
            )
        return _pool[2]


def _handle(
    view: Callable[..., VoiceResponse | None], fallback: Fallback, *, keep_late: bool = False
) -> Response:
    """Check the signature, run the view in one transaction, and answer TwiML whatever happens,
    by the deadline: a caller hears nothing while we wait, and Twilio gives up at 15 s."""
    rt = runtime()
    if not is_from_twilio(rt.settings, request):
        return forbidden()
    base = rt.settings.public_base_url or request.host_url.rstrip("/")
    with _asking(Asked(base, request.args.to_dict())) as context:
        return _answer(rt, view, fallback, context, keep_late)


def _answer(
    rt: Runtime,
    view: Callable[..., VoiceResponse | None],
    fallback: Fallback,
    context: contextvars.Context,
    keep_late: bool,
) -> Response:
    params = {key: request.form.get(key, "") for key in request.form}
    work = _Work(view, keep_late)
    path = request.path
    limits = rt.settings.database
    workers = _workers(limits.pool_size + limits.max_overflow)
    # The view needs none of Flask's request context (copying it cost a tenth of a
    # millisecond a request): what it reads of the request travels in `context`.
    workers.submit(context.run, work.run, rt, params, path)
    deadline = rt.settings.database.webhook_deadline_ms / 1000
    if not work.wait(deadline, max(0.0, LAST_ANSWER_S - deadline)):
        log.error(
            "webhook %s had no answer within its deadline; answered %s",
            path,
            "the fallback, and its work goes on" if keep_late else "the fallback",
        )
        return twiml(fallback(rt.settings))
    if work.failed:
        return twiml(fallback(rt.settings))
    return twiml(work.result if work.result is not None else VoiceResponse())


def voice_webhook(
    fallback: Fallback, *, keep_late: bool = False
) -> Callable[[View], Callable[[], Response]]:
    """Wrap a voice view: refuse unsigned requests; on any failure answer `fallback` TwiML.

    `keep_late`: the answer does not depend on the work (the fallback says the same), so work
    that finishes after the deadline is kept rather than undone."""

    def decorate(view: View) -> Callable[[], Response]:
        @wraps(view)
        def handle() -> Response:
            return _handle(view, fallback, keep_late=keep_late)

        return handle

    return decorate


def status_webhook(
    view: Callable[[Session, Settings, dict[str, str], datetime], None],
) -> Callable[[], Response]:
    """Wrap a status callback: refuse unsigned requests; otherwise always a 2xx."""

    @wraps(view)
    def handle() -> Response:
        return _handle(view, lambda _settings: VoiceResponse(), keep_late=True)

    return handle
