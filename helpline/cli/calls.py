"""`helpline calls`: the call log."""

from __future__ import annotations

import click

from helpline.cli.base import State, audit_export, local_time, pass_state, print_json


@click.group()
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
        if as_json:  # the JSON carries callers' numbers; the table does not
            audit_export(session, state, "calls-exported", "calls", {"rows": len(rows)})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(
            f"{local_time(row['started_at'], state)}  {row['office']:<15} {row['status']:<12} "
            f"{row['outcome'] or '-':<20} {row['answered_by'] or ''}"
        )
