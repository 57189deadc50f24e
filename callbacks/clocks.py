"""Starting the promise clock of callbacks filed while their office had no opening in sight.

Such a callback waits with no deadline. Its clock starts at the office's next opening, counted
from the moment an opening comes into sight: when the office is reopened, or when the
`start-clocks` job next finds one (hours configured again, a closure ended some other way).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from callbacks import queue
from callbacks.models import OPEN_STATUSES, Callback
from callbacks.working_time import due_at
from helpline.settings import Settings
from rota import service as rota
from rota.calendar import OfficeCalendar


def waiting(office: str | None = None) -> Select[Callback]:
    """Open callbacks with no deadline yet, of one office or of all."""
    query = select(Callback).where(Callback.status.in_(OPEN_STATUSES), Callback.due_at.is_(None))
    return query if office is None else query.where(Callback.office == office)


def start(
    session: Session,
    settings: Settings,
    callbacks: Sequence[Callback],
    now: datetime,
    actor: str,
) -> int:
    """Give each callback whose office now has an opening in sight its deadline, counted from
    that office's next opening after `now`; returns how many got one."""
    calendars: dict[str, OfficeCalendar | None] = {}
    started = 0
    for callback in callbacks:
        if callback.office not in calendars:
            calendars[callback.office] = _calendar(session, settings, callback.office, now)
        calendar = calendars[callback.office]
        if calendar is None:
            continue
        due = due_at(calendar, now, settings.callbacks.promise_working_days)
        if due is None:
            continue
        callback.due_at = due
        queue.event(session, callback, "clock-started", actor, now, due_at=due.isoformat())
        started += 1
    session.flush()
    return started


def reopen_office(
    session: Session, settings: Settings, key: str, now: datetime, actor: str = "service"
) -> tuple[int, int]:
    """End the office's closures and start the clocks of its callbacks waiting for an opening;
    returns (closures ended, clocks started). The one way to reopen an office for staff."""
    ended = rota.open_office(session, settings, key, now)
    # Callbacks another transaction holds (the start-clocks job) are being started there.
    held = session.scalars(waiting(key).with_for_update(skip_locked=True)).all()
    return ended, start(session, settings, held, now, actor)


def _calendar(
    session: Session, settings: Settings, office: str, now: datetime
) -> OfficeCalendar | None:
    if office not in settings.offices:
        return None  # an office no longer configured never opens; its callbacks wait
    return rota.calendar(session, settings, office, now, days=400)
