"""`helpline callbacks`: work the callback queue without the web pages."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session

from callbacks.states import OUTCOMES, CallbackStatus
from helpline.cli.base import State, audit_export, fail, local_time, pass_state, print_json


@click.group()
def callbacks() -> None:
    """Work the callback queue."""


ACTOR_HELP = "Who is acting, for the audit trail (default: cli)."
NO_DEADLINE = "no deadline: the office has no opening in sight"


def _queue_action(state: State, callback_id: int, action: Any) -> Any:
    from callbacks.common import CallbackError
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
        audit_export(session, state, "callbacks-listed", "callbacks", {"rows": len(rows)})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        flag = f" [{row['warning']}]" if row["warning"] else ""
        due = f"due {local_time(row['due_at'], state)}" if row["due_at"] else NO_DEADLINE
        click.echo(
            f"#{row['id']:<5} {row['status']:<11} {row['office']:<15} {due}  "
            f"{row['assigned_to'] or '-':<20} "
            f"attempts {row['attempts']}  {row['phone'] or 'no number'}{flag}"
        )


@callbacks.command("assign")
@click.argument("callback_id", type=int)
@click.argument("adviser")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_assign(state: State, callback_id: int, adviser: str, actor: str) -> None:
    """Assign (or reassign) a callback to an adviser, by name in any case.

    An adviser off shift may be given it (with a warning): it stays theirs until their next
    shift ends.
    """
    from callbacks import common, staff_actions
    from rota.service import find_adviser

    def act(session: Session) -> tuple[str, staff_actions.OffShift | None]:
        person = find_adviser(session, adviser)
        callback = common.get(session, callback_id)
        off_shift = staff_actions.assign(session, callback, person, actor, state.runtime.clock())
        return person.name, off_shift

    name, off_shift = _queue_action(state, callback_id, act)
    click.echo(f"callback {callback_id} assigned to {name}")
    if off_shift is not None:
        click.echo(f"warning: {off_shift.warning(state.runtime.settings.timezone)}", err=True)


@callbacks.command("call")
@click.argument("callback_id", type=int)
@click.option("--adviser", default=None, help="Ring this adviser instead of the assignee.")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_call(state: State, callback_id: int, adviser: str | None, actor: str) -> None:
    """Ring the assigned adviser; when they press 1, the parent is called."""
    from callbacks.calling_back import call_back
    from callbacks.common import CallbackError
    from rota.service import UnknownAdviser
    from webhooks.callback_voice import attempt_webhooks

    try:
        result = call_back(state.runtime, callback_id, actor, adviser, urls=attempt_webhooks)
    except (CallbackError, UnknownAdviser) as exc:
        fail(str(exc))
    click.echo(result.message)


@callbacks.command("outcome")
@click.argument("callback_id", type=int)
@click.argument("outcome", type=click.Choice([outcome.value for outcome in OUTCOMES]))
@click.option("--note", default=None)
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_outcome(
    state: State, callback_id: int, outcome: str, note: str | None, actor: str
) -> None:
    """Record how the latest attempt went."""
    from callbacks import attempts, common

    def act(session: Session) -> str:
        settings, now = state.runtime.settings, state.runtime.clock()
        callback = common.get(session, callback_id)
        corrected = attempts.attempt_corrected(callback, now)
        status = attempts.record_outcome(
            session, settings, callback, outcome, actor, now, note=note
        )
        if status == CallbackStatus.OPEN and callback.next_attempt_at:
            status = f"a retry is due from {callback.next_attempt_at.isoformat()}"
        if corrected is None:
            return status
        return (
            f"attempt {attempts.counted_attempts(callback)} of "
            f"{settings.callbacks.max_attempts} corrected to {outcome}; {status}"
        )

    click.echo(f"callback {callback_id}: {_queue_action(state, callback_id, act)}")


@callbacks.command("close")
@click.argument("callback_id", type=int)
@click.option("--reason", required=True, help="Why no call back is needed.")
@click.option("--by", "actor", default="cli", help=ACTOR_HELP)
@pass_state
def callbacks_close(state: State, callback_id: int, reason: str, actor: str) -> None:
    """Cancel a callback."""
    from callbacks import common, staff_actions

    _queue_action(
        state,
        callback_id,
        lambda session: staff_actions.close(
            session, common.get(session, callback_id), reason, actor, state.runtime.clock()
        ),
    )
    click.echo(f"callback {callback_id} cancelled")
