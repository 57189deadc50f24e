"""The `helpline` command: database, serving, rota, offices and calls; queue and simulator
commands come from cli_queue and cli_simulate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from helpline import cli_queue, cli_simulate
from helpline import settings as settings_module
from helpline.app import check_web_start, create_app, make_runtime
from helpline.cli_base import (
    Commands,
    State,
    fail,
    local_time,
    parse_time,
    pass_state,
    print_json,
)


@click.group(cls=Commands)
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
    """Create or migrate the database, and say which it did."""
    from helpline.migrate import current_revision, upgrade

    state.migrating = True
    engine = state.runtime.sessions.kw["bind"]  # with the commands' waits
    before = current_revision(engine)
    upgrade(engine=engine)
    after = current_revision(engine)
    engine.dispose()  # leave no connection open
    if before is None:
        click.echo(f"Created the database schema at revision {after}; it is up to date.")
    elif before != after:
        click.echo(f"Migrated the database from revision {before} to {after}; it is up to date.")
    else:
        click.echo(f"The database is already up to date, at revision {after}.")


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
    try:
        check_web_start(runtime.settings)
    except settings_module.ConfigError as exc:
        fail(f"configuration: {exc}")
    if not runtime.dialer.places_calls:
        click.echo("note: no Twilio credentials, so call backs are logged, not placed", err=True)
    from helpline.scheduler import build

    clock = build(runtime, blocking=False)
    # The web app gets the web's short waits; the scheduler keeps the commands' longer ones.
    web = make_runtime(runtime.settings, clock=runtime.clock, dialer=runtime.dialer)
    run(
        create_app(web),
        host=host,
        port=port,
        engines=(runtime.sessions.kw["bind"], web.sessions.kw["bind"]),
        in_worker=(clock.start, lambda: clock.shutdown(wait=False)),
    )


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


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@rota.command("remove")
@click.argument("adviser")
@click.argument("day", metavar="DATE")
@pass_state
def rota_remove(state: State, adviser: str, day: str) -> None:
    """Clear an adviser's shifts on a date (a shift in progress ends now)."""
    from rota import service

    try:
        local_day = date.fromisoformat(day)
    except ValueError:
        fail(f"'{day}' is not a date like 2026-11-30")
    try:
        with state.transaction() as session:
            person = service.find_adviser(session, adviser)
            name = person.name
            stopped = service.remove_day(
                session, state.runtime.settings, person, local_day, state.runtime.clock()
            )
    except service.UnknownAdviser as exc:
        fail(str(exc))
    if stopped == service.Stopped(0, 0):
        click.echo(f"{name} has no shifts on {local_day}; nothing changed.")
        return
    done = ["the shift in progress ends now"] if stopped.cut_short else []
    if stopped.removed:
        done.append(f"removed {_plural(stopped.removed, 'shift')}")
    click.echo(f"{name} on {local_day}: {'; '.join(done)}.")


@main.group()
def advisers() -> None:
    """Advisers."""


@advisers.command("leave")
@click.argument("adviser")
@click.option("--by", "actor", default="cli", help="Who is acting, for the audit trail.")
@pass_state
def advisers_leave(state: State, adviser: str, actor: str) -> None:
    """An adviser leaves: their shift in progress ends now, later shifts are removed, their
    open callbacks go back to the pool, and no rota import gives them shifts again until
    `advisers return`."""
    from callbacks import queue
    from rota import service

    settings = state.runtime.settings
    now = state.runtime.clock()
    try:
        with state.transaction() as session:
            person = service.find_adviser(session, adviser)
            name = person.name
            already = service.left_on(settings, person)
            stopped = service.leave(session, settings, person, now)
            handed_back = queue.hand_back(session, person, actor, now, reason="adviser left")
    except (service.UnknownAdviser, queue.CallbackError) as exc:
        fail(f"{exc}; nothing changed")
    if already is not None and stopped == service.Stopped(0, 0) and not handed_back:
        click.echo(f"{name} already left on {already}; nothing changed.")
        return
    done = ["their shift in progress ends now"] if stopped.cut_short else []
    were = "was" if stopped.removed == 1 else "were"
    done.append(f"{_plural(stopped.removed, 'later shift')} {were} removed")
    done.append(f"{_plural(handed_back, 'open callback')} went back to the pool")
    click.echo(f"{name} has left: {', '.join(done[:-1])} and {done[-1]}.")


@advisers.command("return")
@click.argument("adviser")
@pass_state
def advisers_return(state: State, adviser: str) -> None:
    """An adviser who left comes back: a rota import may give them shifts again."""
    from rota import service

    try:
        with state.transaction() as session:
            person = service.find_adviser(session, adviser)
            name = person.name
            had_left = service.bring_back(
                session, state.runtime.settings, person, state.runtime.clock()
            )
    except service.UnknownAdviser as exc:
        fail(str(exc))
    if had_left is None:
        click.echo(f"{name} has not left; nothing changed.")
        return
    click.echo(
        f"{name} is back (they had left on {had_left}): import a rota that lists them to give "
        "them shifts."
    )


@main.group()
def office() -> None:
    """Ad-hoc closures."""


@office.command("close")
@click.argument("key")
@click.option("--until", help="ISO time it reopens (local time unless an offset is given).")
@click.option("--reason", default="", help="Shown to staff, never to callers.")
@pass_state
def office_close(state: State, key: str, until: str | None, reason: str) -> None:
    """Close an office now, until a time or until it is reopened."""
    from rota.service import UnknownOffice, close_office

    end = parse_time(until, state, "--until")
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
    """End the office's current and future closures, and start the clocks of its callbacks
    that wait for an opening."""
    from callbacks.clocks import reopen_office
    from rota.service import UnknownOffice

    try:
        with state.transaction() as session:
            ended, started = reopen_office(
                session, state.runtime.settings, key.lower(), state.runtime.clock(), "cli"
            )
    except UnknownOffice as exc:
        fail(str(exc))
    waiting = f"; {started} waiting callback(s) now have a deadline" if started else ""
    click.echo(f"{key} is open ({ended} closure(s) ended){waiting}")


# --- calls ----------------------------------------------------------------------------------


@main.group()
def calls() -> None:
    """The call log."""


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
        print_json(rows)
        return
    for row in rows:
        click.echo(
            f"{local_time(row['started_at'], state)}  {row['office']:<15} {row['status']:<12} "
            f"{row['outcome'] or '-':<20} {row['answered_by'] or ''}"
        )


main.add_command(cli_queue.callbacks)
main.add_command(cli_queue.jobs)
main.add_command(cli_queue.scheduler)
main.add_command(cli_simulate.simulate)
