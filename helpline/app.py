"""The composition root: build a runtime from settings, and the Flask app around it."""

from __future__ import annotations

import gc
import logging
from types import TracebackType

from flask import Flask, Response, jsonify, request

from helpline import settings as settings_module
from helpline.health import check as health_check
from helpline.logs import configure_logging, describe_failure
from helpline.runtime import Runtime
from helpline.settings import ConfigError, Settings
from helpline.staff import register as register_staff_pages
from helpline.wiring import Role, database_engine, make_dialer, make_runtime
from webhooks.answer_machine import bp as answer_machine_bp
from webhooks.callback_voice import bp as callback_voice_bp
from webhooks.voice import bp as voice_bp

__all__ = [
    "Role",
    "check_web_start",
    "create_app",
    "database_engine",
    "make_dialer",
    "make_runtime",
    "wsgi",
]

log = logging.getLogger("helpline.app")


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
    app = create_app(make_runtime(settings))
    # Everything loaded so far (modules, mappers, compiled queries) lives as long as the
    # process: kept out of the garbage collector's full passes, which otherwise walked it all
    # and held a request up for about 220 ms now and then (5-8 ms after).
    gc.collect()
    gc.freeze()
    return app
