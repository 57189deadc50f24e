"""The `helpline` command: database, serving, rota, offices, calls and the call simulator."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from helpline import settings as settings_module
from helpline.app import create_app, make_runtime
from helpline.db import make_engine, session_factory, unit_of_work
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
            if self.demo:
                from helpline.migrate import upgrade

                upgrade(settings.database_url)  # the demo's own database is always kept current
            engine = make_engine(settings.database_url)
            self._runtime = make_runtime(settings, sessions=session_factory(engine))
        return self._runtime

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.runtime.sessions) as session:
            yield session


pass_state = click.make_pass_decorator(State)


def fail(message: str) -> None:
    """Stop with a clear message and a non-zero exit."""
    raise click.ClickException(message)


@click.group()
@click.option(
    "--demo",
    is_flag=True,
    envvar="HELPLINE_DEMO",
    help="Use the local demo: its SQLite database, open offices and local token.",
)
@click.pass_context
def main(ctx: click.Context, demo: bool) -> None:
    """Helpline and callback service for Herefordshire and Worcestershire SENDIASS."""
    ctx.obj = State(demo)


# --- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: State) -> None:
    """Create or migrate the database."""
    from helpline.migrate import upgrade

    upgrade(state.runtime.settings.database_url)
    click.echo("database is up to date")


# --- serving --------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_state
def serve(state: State, host: str, port: int) -> None:
    """Run the web app and the scheduler in one process (the demo also migrates and seeds)."""
    from helpline.migrate import upgrade
    from helpline.server import run

    runtime = state.runtime
    if state.demo:
        from helpline.demo import seed

        upgrade(runtime.settings.database_url)
        with state.transaction() as session:
            click.echo(seed(session, runtime.settings, runtime.clock()))
        click.echo(
            "Demo: Twilio auth token for signing is "
            f"'{settings_module.DEMO_AUTH_TOKEN}'; try in another terminal:\n"
            "  .venv/bin/helpline --demo simulate call --to herefordshire "
            "--accept 'Alex Adams'"
        )
    if not runtime.settings.twilio_auth_token:
        click.echo("warning: TWILIO_AUTH_TOKEN is not set, so every webhook is refused", err=True)
    if not runtime.dialer.places_calls:
        click.echo("note: no Twilio credentials, so call backs are logged, not placed", err=True)
    from helpline.scheduler import build

    clock = build(runtime, blocking=False)
    clock.start()
    try:
        run(create_app(runtime), host=host, port=port)
    finally:
        clock.shutdown(wait=False)


# --- rota and offices -----------------------------------------------------------------------


@main.group()
def rota() -> None:
    """Advisers and shifts."""


@rota.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def rota_import(state: State, path: Path) -> None:
    """Add advisers and shifts from a CSV file; nothing is imported if any row is bad."""
    from rota.importer import RotaImportError, import_rota

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path}: not a UTF-8 text file; nothing imported")
    try:
        with state.transaction() as session:
            result = import_rota(session, state.runtime.settings, text, state.runtime.clock())
    except RotaImportError as exc:
        fail(f"{path}: nothing imported.\n{exc}")
    click.echo(result.summary())


@main.group()
def office() -> None:
    """Ad-hoc closures."""


def _parse_time(value: str | None, state: State, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not an ISO time such as 2026-12-24T17:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=state.runtime.settings.timezone)
    return parsed


@office.command("close")
@click.argument("key")
@click.option("--until", help="ISO time it reopens (local time unless an offset is given).")
@click.option("--reason", default="", help="Shown to staff, never to callers.")
@pass_state
def office_close(state: State, key: str, until: str | None, reason: str) -> None:
    """Close an office now, until a time or until it is reopened."""
    from rota.service import UnknownOffice, close_office

    end = _parse_time(until, state, "--until")
    try:
        with state.transaction() as session:
            close_office(
                session, state.runtime.settings, key.lower(), state.runtime.clock(), end, reason
            )
    except (UnknownOffice, ValueError) as exc:
        fail(str(exc))
    click.echo(f"{key} is closed" + (f" until {end.isoformat()}" if end else " until reopened"))


@office.command("open")
@click.argument("key")
@pass_state
def office_open(state: State, key: str) -> None:
    """End the office's current and future closures."""
    from rota.service import UnknownOffice, open_office

    try:
        with state.transaction() as session:
            count = open_office(session, state.runtime.settings, key.lower(), state.runtime.clock())
    except UnknownOffice as exc:
        fail(str(exc))
    click.echo(f"{key} is open ({count} closure(s) ended)")


# --- calls ----------------------------------------------------------------------------------


@main.group()
def calls() -> None:
    """The call log."""


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


@calls.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--limit", default=100, show_default=True, type=int)
@pass_state
def calls_list(state: State, as_json: bool, limit: int) -> None:
    """Recent calls, newest first."""
    from calls.report import recent_calls

    with state.transaction() as session:
        rows = recent_calls(session, limit)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['started_at']}  {row['office']:<15} {row['status']:<12} "
            f"{row['outcome'] or '-':<20} {row['answered_by'] or ''}"
        )


# --- simulator ------------------------------------------------------------------------------


@main.group()
def simulate() -> None:
    """Play calls through the webhooks without Twilio."""


@simulate.command("call")
@click.option(
    "--from",
    "caller",
    default="+447700900123",
    show_default=True,
    help="The caller's number, or 'withheld'.",
)
@click.option(
    "--to",
    "to",
    default=None,
    help="The number dialled, or an office key; default: the first office.",
)
@click.option("--accept", multiple=True, help="Adviser (name or phone) who presses 1.")
@click.option("--decline", multiple=True, help="Adviser who answers and presses 2.")
@click.option("--voicemail", multiple=True, help="Adviser whose phone goes to voicemail.")
@click.option("--busy", multiple=True, help="Adviser whose line is busy.")
@click.option("--digits", multiple=True, help="Keys the caller presses at each menu, e.g. 1.")
@click.option(
    "--message-seconds",
    default=20,
    show_default=True,
    type=int,
    help="Length of the caller's message; 0 hangs up before the beep.",
)
@click.option(
    "--url", default=None, help="Base URL of a running service; default: play in this process."
)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="Play the call as if at this ISO time (local unless an offset is given).",
)
@pass_state
def simulate_call(
    state: State,
    caller: str,
    to: str | None,
    accept: tuple[str, ...],
    decline: tuple[str, ...],
    voicemail: tuple[str, ...],
    busy: tuple[str, ...],
    digits: tuple[str, ...],
    message_seconds: int,
    url: str | None,
    at_text: str | None,
) -> None:
    """Play one call, signed as Twilio would sign it, and print what happens."""
    from helpline.simulator import CallPlayer, FlaskTransport, HttpTransport, Script
    from helpline.simulator_cli import resolve_advisers, resolve_to

    runtime = state.runtime
    settings = runtime.settings
    at = _parse_time(at_text, state, "--at")
    if not settings.twilio_auth_token:
        fail("TWILIO_AUTH_TOKEN is not set, so requests cannot be signed (try --demo)")
    with state.transaction() as session:
        advisers = resolve_advisers(
            session, accept=accept, decline=decline, voicemail=voicemail, busy=busy
        )
    number = resolve_to(settings, to)
    script = Script(
        caller=None if caller.lower() == "withheld" else caller,
        to=number,
        advisers=advisers,
        digits=list(digits),
        message_seconds=message_seconds,
    )
    if url:
        if at:
            fail("--at works only when the call is played in this process (without --url)")
        # Sign for the address the service believes it has; send to the address given.
        base = settings.public_base_url or url.rstrip("/")
        transport: Any = HttpTransport(base, url.rstrip("/"))
    else:
        if at:
            runtime = make_runtime(
                settings, sessions=runtime.sessions, clock=lambda: at, dialer=runtime.dialer
            )
        transport = FlaskTransport(create_app(runtime))
        base = settings.public_base_url or "http://127.0.0.1:5000"
        if not settings.demo:
            click.echo("(playing in this process against DATABASE_URL)", err=True)
    player = CallPlayer(
        transport,
        settings.twilio_auth_token or "",
        base,
        on_step=lambda step: click.echo(str(step)),
    )
    result = player.play(script)
    for error in result.errors:
        click.echo(f"ERROR: {error}", err=True)
    with state.transaction() as session:
        from calls.models import Call
        from calls.report import call_json

        call = session.query(Call).filter_by(sid=result.call_sid).one_or_none()
        if call is not None and not url:
            click.echo(f"outcome: {call_json(call)['outcome']}")
    if result.errors:
        sys.exit(1)


# --- callbacks ------------------------------------------------------------------------------


@main.group()
def callbacks() -> None:
    """Work the callback queue."""


ACTOR_HELP = "Who is acting, for the audit trail (default: cli)."


def _queue_action(state: State, callback_id: int, action: Any) -> Any:
    from callbacks.queue import CallbackError
    from rota.service import UnknownAdviser

    try:
        with state.transaction() as session:
            return action(session)
    except (CallbackError, UnknownAdviser) as exc:
        fail(str(exc))


@callbacks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_state
def callbacks_list(state: State, as_json: bool) -> None:
    """Open callbacks (soonest deadline first) and those closed in the last 30 days."""
    from callbacks.report import list_callbacks

    with state.transaction() as session:
        rows = list_callbacks(session, state.runtime.clock())
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        flag = f" [{row['warning']}]" if row["warning"] else ""
        click.echo(
            f"#{row['id']:<5} {row['status']:<11} {row['office']:<15} due "
            f"{row['due_at']}  {row['assigned_to'] or '-':<20} "
            f"attempts {row['attempts']}  {row['phone'] or 'no number'}{flag}"
        )


@callbacks.command("assign")
@click.argument("callback_id", type=int)
@click.argument("adviser")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_assign(state: State, callback_id: int, adviser: str, actor: str) -> None:
    """Assign (or reassign) a callback to an adviser, by name in any case."""
    from callbacks import queue
    from rota.service import find_adviser

    def act(session: Session) -> str:
        person = find_adviser(session, adviser)
        queue.assign(session, queue.get(session, callback_id), person, actor, state.runtime.clock())
        return person.name

    name = _queue_action(state, callback_id, act)
    click.echo(f"callback {callback_id} assigned to {name}")


@callbacks.command("call")
@click.argument("callback_id", type=int)
@click.option("--adviser", default=None, help="Ring this adviser instead of the assignee.")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_call(state: State, callback_id: int, adviser: str | None, actor: str) -> None:
    """Ring the assigned adviser; when they press 1, the parent is called."""
    from callbacks.queue import CallbackError
    from helpline.calling import call_back
    from rota.service import UnknownAdviser

    try:
        result = call_back(state.runtime, callback_id, actor, adviser)
    except (CallbackError, UnknownAdviser) as exc:
        fail(str(exc))
    click.echo(result.message)


@callbacks.command("outcome")
@click.argument("callback_id", type=int)
@click.argument(
    "outcome", type=click.Choice(["spoke", "left-message", "no-answer", "wrong-number"])
)
@click.option("--note", default=None)
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_outcome(
    state: State, callback_id: int, outcome: str, note: str | None, actor: str
) -> None:
    """Record how the latest attempt went."""
    from callbacks import queue

    def act(session: Session) -> str:
        callback = queue.get(session, callback_id)
        status = queue.record_outcome(
            session,
            state.runtime.settings,
            callback,
            outcome,
            actor,
            state.runtime.clock(),
            note=note,
        )
        if status == "open" and callback.next_attempt_at:
            return f"a retry is due from {callback.next_attempt_at.isoformat()}"
        return status

    click.echo(f"callback {callback_id}: {_queue_action(state, callback_id, act)}")


@callbacks.command("close")
@click.argument("callback_id", type=int)
@click.option("--reason", required=True, help="Why no call back is needed.")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_close(state: State, callback_id: int, reason: str, actor: str) -> None:
    """Cancel a callback."""
    from callbacks import queue

    _queue_action(
        state,
        callback_id,
        lambda session: queue.close(
            session, queue.get(session, callback_id), reason, actor, state.runtime.clock()
        ),
    )
    click.echo(f"callback {callback_id} cancelled")


# --- scheduler and jobs ---------------------------------------------------------------------


@main.command()
@pass_state
def scheduler(state: State) -> None:
    """Run the scheduled jobs until stopped (the Procfile's clock; run exactly one)."""
    from helpline.scheduler import build

    click.echo("scheduler running; stop with Ctrl-C")
    build(state.runtime, blocking=True).start()


@main.group()
def jobs() -> None:
    """The scheduler's jobs."""


@jobs.command("list")
@pass_state
def jobs_list(state: State) -> None:
    """Each job, how often it runs, and its last run."""
    from callbacks.jobs import JOBS
    from helpline.scheduler import last_runs

    runs = last_runs(state.runtime)
    for job in JOBS.values():
        run = runs.get(job.name)
        last = (
            f"last run {run.started_at.isoformat()} {'ok' if run.ok else 'FAILED'}: {run.summary}"
            if run
            else "never run"
        )
        click.echo(f"{job.name:<22} every {job.every_seconds:>4} s  {job.about}; {last}")


@jobs.command("run")
@click.argument("name")
@pass_state
def jobs_run(state: State, name: str) -> None:
    """Run one job now (after an outage, say)."""
    from callbacks.jobs import JOBS
    from helpline.scheduler import run_job

    if name not in JOBS:
        fail(f"no job '{name}' (jobs: {', '.join(JOBS)})")
    try:
        click.echo(f"{name}: {run_job(state.runtime, name)}")
    except Exception as exc:
        fail(f"{name} failed: {type(exc).__name__}")
