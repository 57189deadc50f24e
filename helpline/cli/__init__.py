"""The `helpline` command (the console script). Its groups of subcommands live in the modules
beside this one: serving (db, serve), rota (rota, advisers, office), calls, callbacks, jobs
(scheduler, jobs), simulate, stats and users."""

from __future__ import annotations

import click

from helpline.cli import callbacks, calls, jobs, rota, serving, simulate, stats, users
from helpline.cli.base import Commands, State


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


for command in (
    serving.db,
    serving.serve,
    rota.rota,
    rota.advisers,
    rota.office,
    calls.calls,
    callbacks.callbacks,
    jobs.scheduler,
    jobs.jobs,
    simulate.simulate,
    users.users,
    stats.stats,
):
    main.add_command(command)
