"""The composition root: build a runtime from settings, and the Flask app around it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Literal

from flask import Flask, Response, jsonify, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helpline import clock as wall_clock
from helpline import settings as settings_module
from helpline.db import Limits, make_engine, session_factory
from helpline.dialer import Dialer, LoggingDialer
from helpline.health import check as health_check
from helpline.logs import configure_logging, describe_failure
from helpline.runtime import Runtime
from helpline.settings import ConfigError, Settings
from helpline.staff import register as register_staff_pages
from webhooks.answer_machine import bp as answer_machine_bp
from webhooks.callback_voice import bp as callback_voice_bp
from webhooks.twilio_dialer import TwilioDialer
from webhooks.voice import bp as voice_bp

log = logging.getLogger("helpline.app")


def make_dialer(settings: Settings) -> Dialer:
    """Twilio when credentials are set; otherwise a dialer that logs calls as not placed."""
    if settings.twilio_configured and settings.twilio_account_sid and settings.twilio_auth_token:
        return TwilioDialer(settings.twilio_account_sid, settings.twilio_auth_token)
    return LoggingDialer()


Role = Literal["web", "background"]


def database_engine(settings: Settings, role: Role) -> Engine:
    """An engine whose waits suit `role`: short for the web, where a caller is waiting;
    longer for the scheduler and commands."""
    policy = settings.database
    waits = policy.web if role == "web" else policy.background
    limits = Limits(
        connect_timeout_s=policy.connect_timeout_seconds,
        pool_timeout_s=policy.pool_timeout_seconds,
        statement_timeout_ms=waits.statement_timeout_ms,
        lock_timeout_ms=waits.lock_timeout_ms,
        idle_in_transaction_timeout_ms=waits.idle_in_transaction_timeout_ms,
        sqlite_busy_timeout_ms=waits.sqlite_busy_timeout_ms,
        tcp_user_timeout_ms=waits.tcp_user_timeout_ms,
        keepalives_idle_s=waits.keepalives_idle_seconds,
        keepalives_interval_s=waits.keepalives_interval_seconds,
        keepalives_count=waits.keepalives_count,
    )
    return make_engine(settings.database_url, limits)


def make_runtime(
    settings: Settings | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] | None = None,
    dialer: Dialer | None = None,
    role: Role = "web",
) -> Runtime:
    """Wire settings, the database, the clock and the dialer; tests pass their own."""
    settings = settings or settings_module.load()
    if sessions is None:
        sessions = session_factory(database_engine(settings, role))
    return Runtime(
        settings=settings,
        sessions=sessions,
        clock=clock or wall_clock.now,
        dialer=dialer or make_dialer(settings),
    )


class HelplineFlask(Flask):
    """Flask, logging a view's failure by its type and place, never its message."""

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled error without its message or traceback text, which can carry the
        row a database refused (a phone number, a note)."""
        exc = exc_info[1]
        what = describe_failure(exc) if exc is not None else "unknown error"
        log.error("%s %s failed: %s", request.method, request.path, what)


def create_app(runtime: Runtime | None = None) -> Flask:
    """The web app: Twilio's voice webhooks, the staff pages and a health check."""
    runtime = runtime or make_runtime()
    configure_logging(runtime.settings.log_level)
    app = HelplineFlask("helpline")
    app.config["SECRET_KEY"] = runtime.settings.secret_key or None
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["helpline"] = runtime
    app.register_blueprint(voice_bp)
    app.register_blueprint(answer_machine_bp)
    app.register_blueprint(callback_voice_bp)
    register_staff_pages(app)

    @app.get("/healthz")
    def health() -> tuple[Response, int]:
        """For the platform's monitor: database, schema and scheduler; 503 if any fails."""
        with runtime.sessions() as session:
            result = health_check(
                session, runtime.clock(), runtime.settings.health.scheduler_within_minutes
            )
            session.rollback()
        return jsonify(result), 200 if result["status"] == "ok" else 503

    @app.get("/")
    def index() -> Response:
        return Response(
            f"{runtime.settings.service_name} helpline service is running.\n",
            mimetype="text/plain",
        )

    return app


def check_web_start(settings: Settings) -> None:
    """Refuse to serve without a secret key (except the demo's); warn of what else is missing.

    Logs name the missing settings, never the values of those that are set."""
    if not settings.secret_key:
        raise ConfigError(
            "SECRET_KEY is not set. The web process will not start without it: staff "
            "sessions are signed with it. Set it to a long random string, e.g. the output "
            "of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if settings.demo:
        return
    if not settings.public_base_url:
        log.warning(
            "PUBLIC_BASE_URL is not set: webhook signatures are checked against the address "
            "each request arrived at, which behind the platform's router is not the one "
            "Twilio signed, so webhooks may be refused"
        )
    if not settings.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set, so every webhook is refused")


def wsgi() -> Flask:
    """Entry point for gunicorn: `gunicorn 'helpline.app:wsgi()'`."""
    settings = settings_module.load()
    configure_logging(settings.log_level)
    check_web_start(settings)
    return create_app(make_runtime(settings))
