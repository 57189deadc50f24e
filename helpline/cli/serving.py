"""`helpline db upgrade` and `helpline serve`: the database, and the web app with its scheduler
on one machine."""

from __future__ import annotations

import click

from helpline import settings as settings_module
from helpline.cli.base import State, fail, pass_state


@click.group()
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


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_state
def serve(state: State, host: str, port: int) -> None:
    """Run the web app and the scheduler in one process (the demo also migrates and seeds)."""
    from helpline.migrate import upgrade
    from helpline.server import run

    runtime = state.runtime
    if state.demo:
        from helpline.demo import seed, sign_in_help

        upgrade(runtime.settings.database_url)
        if "made the demo rota" not in state.prepared:  # not just made: bring it up to date
            with state.transaction() as session:
                click.echo(seed(session, runtime.settings, runtime.clock()))
        click.echo(
            "Demo: Twilio auth token for signing is "
            f"'{settings_module.DEMO_AUTH_TOKEN}'; try in another terminal:\n"
            "  .venv/bin/helpline --demo simulate call --to herefordshire "
            "--accept 'Alex Adams'"
        )
        click.echo(f"Staff pages: http://{host}:{port}/sign-in")
        if sign_in_help() not in state.prepared:  # not said just now, as the accounts were made
            click.echo(f"{sign_in_help()}.")
    try:
        from helpline.app import check_web_start

        check_web_start(runtime.settings)
    except settings_module.ConfigError as exc:
        fail(f"configuration: {exc}")
    if not runtime.dialer.places_calls:
        click.echo("note: no Twilio credentials, so call backs are logged, not placed", err=True)
    from helpline.scheduler import build

    clock = build(runtime, blocking=False)
    # The web app gets the web's short waits; the scheduler keeps the commands' longer ones.
    from helpline.app import create_app, make_runtime

    web = make_runtime(runtime.settings, clock=runtime.clock, dialer=runtime.dialer)
    run(
        create_app(web),
        host=host,
        port=port,
        engines=(runtime.sessions.kw["bind"], web.sessions.kw["bind"]),
        in_worker=(clock.start, lambda: clock.shutdown(wait=False)),
    )
