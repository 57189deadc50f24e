"""`helpline scheduler` (the Procfile's clock) and `helpline jobs`: the scheduler's jobs."""

from __future__ import annotations

import click

from helpline.cli.base import State, fail, local_time, pass_state
from helpline.logs import DATABASE_UNAVAILABLE


@click.command()
@pass_state
def scheduler(state: State) -> None:
    """Run the scheduled jobs until stopped (the Procfile's clock; run exactly one)."""
    from helpline.scheduler import build

    runtime = state.runtime  # a configuration error stops it here, before it says it runs
    click.echo("scheduler running; stop with Ctrl-C")
    build(runtime, blocking=True).start()


@click.group()
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
            f"last run {local_time(run.started_at, state)} {'ok' if run.ok else 'FAILED'}: "
            f"{run.summary}"
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
        raise click.UsageError(f"no job '{name}' (jobs: {', '.join(JOBS)})")  # exit 2
    try:
        click.echo(f"{name}: {run_job(state.runtime, name).summary()}")
    except DATABASE_UNAVAILABLE:
        raise  # the command group says so plainly
    except Exception as exc:
        fail(f"{name} failed: {type(exc).__name__}")
