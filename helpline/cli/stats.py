"""`helpline stats`: the statistics of a range of local dates, and the staffing planner."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import click

from helpline.cli.base import State, audit_export, local_time, pass_state, print_json
from helpline.statistics.ranges import days_in, default_range, too_long

DATE = click.DateTime(formats=["%Y-%m-%d"])
NOT_NEGATIVE = click.FloatRange(min=0)


@click.group(invoke_without_command=True)
@click.option(
    "--from", "first", type=DATE, help="First local date, e.g. 2026-11-01 (default: 27 days ago)."
)
@click.option(
    "--to", "last", type=DATE, help="Last local date, included (366 days at most; default: today)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of the contract.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one measure a row.")
@click.option("--office", help="Only this county's callers, team and advisers.")
@click.pass_context
def stats(
    ctx: click.Context,
    first: datetime | None,
    last: datetime | None,
    as_json: bool,
    as_csv: bool,
    office: str | None,
) -> None:
    """Calls, callbacks and help given between two local dates, the last 28 days (today's
    included) unless told (see docs/statistics.md)."""
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.find_object(State)
    assert state is not None
    if first is None and last is None:
        settings = state.runtime.settings
        today = state.runtime.clock().astimezone(settings.timezone).date()
        first, last = (datetime.combine(day, time()) for day in default_range(today))
    if first is None or last is None:
        raise click.UsageError(
            "give both --from and --to (e.g. --from 2026-11-01 --to 2026-11-30), "
            "or neither for the last 28 days"
        )
    if last < first:
        raise click.UsageError(f"--to {last.date()} is before --from {first.date()}")
    problem = too_long(first.date(), last.date())
    if problem:
        span = f"--from {first.date()} --to {last.date()}"
        raise click.UsageError(f"{problem}: {span} is {days_in(first.date(), last.date())} days")
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    data = _figures(state, first.date(), last.date(), office, exported=as_json or as_csv)
    from helpline.statistics.report import as_csv as to_csv
    from helpline.statistics.report import as_table

    if as_json:
        print_json(data)
    elif as_csv:
        click.echo(to_csv(data), nl=False)
    else:
        click.echo(as_table(data, lambda instant: local_time(instant, state)))


def _figures(
    state: State, first: date, last: date, office: str | None, *, exported: bool
) -> dict[str, Any]:
    from helpline.statistics.figures import collect
    from helpline.statistics.report import as_json

    settings = state.runtime.settings
    if office is not None and office not in settings.offices:
        known = ", ".join(settings.offices)
        raise click.UsageError(f"--office: no office '{office}' (the offices are {known})")
    with state.transaction() as session:
        figures = collect(session, settings, first, last)
        if exported:
            detail = {"from": first.isoformat(), "to": last.isoformat(), "office": office}
            audit_export(session, state, "stats-exported", "statistics", detail)
    return as_json(figures, office)


@stats.command("plan")
@click.option("--calls-per-hour", type=NOT_NEGATIVE, required=True, help="Arrivals per hour.")
@click.option("--handle-seconds", type=NOT_NEGATIVE, required=True, help="Mean handle time.")
@click.option("--answer-within", type=NOT_NEGATIVE, required=True, help="T, in seconds.")
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    required=True,
    help="The share to answer within T, as a fraction such as 0.8.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def plan_command(
    state: State,
    calls_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    target: float,
    as_json: bool,
) -> None:
    """Advisers needed by Erlang C for a stream of calls, with a table around that number."""
    from helpline.statistics.erlang import plan

    made = plan(calls_per_hour, handle_seconds, answer_within, target)
    table = [
        {
            "advisers": row.advisers,
            "p_wait": round(row.p_wait, 4),
            "service_level": round(row.service_level, 4),
            "average_speed_of_answer_s": round(row.average_speed_of_answer_s, 2),
        }
        for row in made.table
    ]
    data = {
        "traffic_erlangs": round(made.traffic_erlangs, 4),
        "advisers_needed": made.advisers_needed,
        "table": table,
    }
    if as_json:
        print_json(data)
        return
    click.echo(
        f"traffic {data['traffic_erlangs']} erlangs; {made.advisers_needed} advisers needed "
        f"for {target:.0%} within {answer_within:g} s"
    )
    click.echo(f"{'advisers':>8} {'P(wait)':>8} {'service level':>14} {'ASA':>8}")
    for row in table:
        click.echo(
            f"{row['advisers']:>8} {row['p_wait']:>8.4f} {row['service_level']:>14.2%} "
            f"{row['average_speed_of_answer_s']:>7.1f}s"
        )
