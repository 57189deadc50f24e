"""Starting the promise clock of callbacks filed while their office had no opening in sight.

Such a callback waits with no deadline. Its clock starts at the office's next opening, counted
from the moment an opening comes into sight: when the office is reopened, or when the
`start-clocks` job next finds one (hours configured again, a closure ended some other way).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from callbacks import common, deadline_warnings
from callbacks.models import Callback
from callbacks.states import OPEN_STATUSES
from callbacks.working_time import due_at
from helpline.settings import Settings
from rota import service as rota


def waiting(offices: Collection[str] | None = None) -> Select[Callback]:
    """Open callbacks with no deadline yet, of the given offices or of all."""
    query = select(Callback).where(Callback.status.in_(OPEN_STATUSES), Callback.due_at.is_(None))
    return query if offices is None else query.where(Callback.office.in_(list(offices)))


def count_waiting(session: Session) -> int:
    """How many open callbacks have no deadline yet."""
    return session.scalar(select(func.count()).select_from(waiting().subquery())) or 0


def deadlines_in_sight(
    session: Session, settings: Settings, now: datetime, offices: Collection[str] | None = None
) -> dict[str, datetime]:
    """For each office (of `offices`, or configured) with an opening in sight, the deadline of
    a clock started now: the promise counted from its next opening."""
    deadlines: dict[str, datetime] = {}
    for key in settings.offices if offices is None else offices:
        calendar = rota.calendar(session, settings, key, now, days=400)
        due = due_at(calendar, now, settings.callbacks.promise_working_days)
        if due is not None:
            deadlines[key] = due
    return deadlines


def start(
    session: Session,
    callbacks: Sequence[Callback],
    deadlines: Mapping[str, datetime],
    now: datetime,
    actor: str,
) -> int:
    """Give each callback its office's deadline from `deadlines`, where there is one; returns
    how many got one."""
    started = 0
    for callback in callbacks:
        due = deadlines.get(callback.office)
        if due is None:
            continue
        callback.due_at = due
        common.event(session, callback, "clock-started", actor, now, due_at=due.isoformat())
        started += 1
    session.flush()
    return started


def reopen_office(
    session: Session, settings: Settings, key: str, now: datetime, actor: str = "service"
) -> tuple[int, int]:
    """End the office's closures and start the clocks of its callbacks waiting for an opening;
    returns (closures ended, clocks started). The one way to reopen an office for staff."""
    ended = rota.open_office(session, settings, key, now)
    deadline_warnings.withdraw_stale_of_office(session, settings, key, actor, now)
    deadlines = deadlines_in_sight(session, settings, now, [key])
    if not deadlines:
        return ended, 0  # reopened, yet with no hours in sight: the callbacks keep waiting
    # Callbacks another transaction holds (the start-clocks job) are being started there.
    held = session.scalars(waiting([key]).with_for_update(skip_locked=True)).all()
    return ended, start(session, held, deadlines, now, actor)
