"""What every `helpline` command shares: the lazily built runtime, errors, times and JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from helpline import settings as settings_module
from helpline.db import unit_of_work
from helpline.logs import DATABASE_UNAVAILABLE, configure_logging
from helpline.runtime import Runtime
from helpline.wiring import make_runtime


class State:
    """What the command group was asked for; the runtime is built on first use."""

    def __init__(self, demo: bool) -> None:
        self.demo = demo
        self.database_url: str | None = None  # once the settings are read
        self.migrating = False  # `db upgrade` migrates the demo's database itself
        self._runtime: Runtime | None = None
        self.prepared = ""  # what making the demo said, if anything

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            env = dict(os.environ)
            if self.demo:
                env["HELPLINE_DEMO"] = "1"
            try:
                settings = settings_module.load(env)
            except settings_module.ConfigError as exc:
                raise click.ClickException(f"configuration: {exc}") from exc
            self.database_url = settings.database_url
            configure_logging(settings.log_level)
            self._runtime = make_runtime(settings, role="background")
            if self.demo and not self.migrating:
                from helpline.demo import prepare

                done = prepare(self._runtime)  # the demo is ready before it is ever served
                if done:
                    self.prepared = done
                    click.echo(done, err=True)
        return self._runtime

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.runtime.sessions) as session:
            yield session


pass_state = click.make_pass_decorator(State)


class Commands(click.Group):
    """The `helpline` command group: a database that cannot be reached ends any command with a
    short message and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DATABASE_UNAVAILABLE as exc:
            state = ctx.find_object(State)
            url = state.database_url if state is not None else None
            raise click.ClickException(database_unavailable(exc, url)) from None


def database_unavailable(exc: Exception, url: str | None) -> str:
    """What failed, in one or two lines: where the database is (never its password) and the
    driver's first line of explanation."""
    where, password = "named by DATABASE_URL", None
    if url:
        try:
            parsed = make_url(url)
        except ArgumentError:  # an unreadable URL is named no further
            parsed = None
        if parsed is not None:
            password = parsed.password
            if parsed.get_backend_name() == "sqlite":
                where = f"in {parsed.database or 'memory'}"
            else:
                port = f":{parsed.port}" if parsed.port else ""
                where = f"at {parsed.host or 'localhost'}{port}/{parsed.database or ''}"
    orig = getattr(exc, "orig", None)
    first_line = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
    if password:
        first_line = first_line.replace(str(password), "***")
    reason = type(exc).__name__ + (f": {first_line[:200]}" if first_line else "")
    if getattr(exc, "statement", None) is None:
        return (
            f"the database {where} did not answer ({reason}).\n"
            "Check DATABASE_URL, and that the database is running and can be reached from here."
        )
    if "no such table" in first_line or type(orig).__name__ == "UndefinedTable":
        return (
            f"the database {where} has none of the service's tables ({reason}).\n"
            "Create them with `helpline db upgrade`, or give --demo for the demo's database."
        )
    return f"the database {where} failed ({reason}); try again, and if it keeps failing, check it."


def fail(message: str) -> None:
    """Stop with a clear message and a non-zero exit."""
    raise click.ClickException(message)


def parse_time(value: str | None, state: State, option: str) -> datetime | None:
    """An ISO time from an option; local time unless it carries an offset."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not an ISO time such as 2026-12-24T17:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=state.runtime.settings.timezone)
    return parsed


def local_time(value: str | datetime | None, state: State) -> str:
    """A time as people in the offices read it: local, with its zone (2026-07-01 10:00 BST)."""
    if value is None:
        return "-"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(state.runtime.settings.timezone).strftime("%Y-%m-%d %H:%M %Z")


def print_json(data: Any) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2))


def audit_export(
    session: Session, state: State, action: str, subject_type: str, detail: dict[str, Any]
) -> None:
    """Write to the audit log that the command line printed personal data or figures: who ran
    it is the platform's business, so the actor is "command line"; `detail` names no person."""
    from accounts.audit import record

    record(
        session,
        None,
        action,
        subject_type,
        None,
        detail,
        at=state.runtime.clock(),
        actor_email="command line",
    )
