"""What every `helpline` command shares: the lazily built runtime, errors, times and JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from helpline import settings as settings_module
from helpline.app import make_runtime
from helpline.db import unit_of_work
from helpline.logs import configure_logging
from helpline.runtime import Runtime


class State:
    """What the command group was asked for; the runtime is built on first use."""

    def __init__(self, demo: bool) -> None:
        self.demo = demo
        self._runtime: Runtime | None = None

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
            configure_logging(settings.log_level)
            self._runtime = make_runtime(settings, role="background")
            if self.demo:
                from helpline.demo import prepare

                done = prepare(self._runtime)  # the demo is ready before it is ever served
                if done:
                    click.echo(done, err=True)
        return self._runtime

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.runtime.sessions) as session:
            yield session


pass_state = click.make_pass_decorator(State)


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


def print_json(data: Any) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2))
