"""Building a runtime from settings: the database engine for a role, the dialer and the clock.

Kept apart from the web app (helpline.app) so that commands which only read the database start
without loading Flask, the webhooks or Twilio's client.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from helpline import clock as wall_clock
from helpline import settings as settings_module
from helpline.db import Limits, make_engine, session_factory
from helpline.dialer import Dialer, LoggingDialer
from helpline.runtime import Runtime
from helpline.settings import Settings

Role = Literal["web", "background"]


def make_dialer(settings: Settings) -> Dialer:
    """Twilio when credentials are set; otherwise a dialer that logs calls as not placed."""
    if settings.twilio_configured and settings.twilio_account_sid and settings.twilio_auth_token:
        from webhooks.twilio_dialer import TwilioDialer  # Twilio's client is slow to import

        return TwilioDialer(settings.twilio_account_sid, settings.twilio_auth_token)
    return LoggingDialer()


def database_engine(settings: Settings, role: Role) -> Engine:
    """An engine whose waits suit `role`: short for the web, where a caller is waiting;
    longer for the scheduler and commands."""
    policy = settings.database
    waits = policy.web if role == "web" else policy.background
    limits = Limits(
        pool_size=policy.pool_size,
        max_overflow=policy.max_overflow,
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
