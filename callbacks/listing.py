"""The queue and an adviser's callbacks as the pages list them: typed rows, most urgent first.

Each row says how much working time is left before the first attempt is due (counted in the
office's hours with `now` passed in), which attempt comes next out of how many, whether an
attempt waits for its outcome, and the deadline warning the `warn-deadlines` job recorded. A
list costs a handful of queries, however many callbacks it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from callbacks import deadline_warnings
from callbacks.attempts import live
from callbacks.deadlines import NO_DEADLINE as NO_DEADLINE  # the words the lists show
from callbacks.deadlines import Deadline, deadline
from callbacks.models import Attempt, Callback
from callbacks.report import warning
from callbacks.states import OPEN_STATUSES, OUTCOMES, CallbackStatus
from calls.report import shown_number
from helpline.settings import Settings
from rota import service as rota
from rota.calendar import OfficeCalendar

STATUSES = tuple(CallbackStatus)
CLOSED_SHOWN_FOR = timedelta(days=30)  # closed callbacks listed, as `callbacks list` does


@dataclass(frozen=True)
class QueueRow:
    """One callback in a list. `phone` is None when the caller gave none or numbers are hidden
    from this reader; `has_number` says which."""

    callback_id: int
    version: int
    office: str
    office_name: str
    status: str
    phone: str | None
    has_number: bool
    assigned_to: str | None
    assigned_to_id: int | None
    created_at: datetime
    closed_at: datetime | None
    deadline: Deadline
    next_attempt_at: datetime | None
    attempts_made: int
    max_attempts: int
    awaiting_outcome: bool  # an attempt has no outcome yet: the outcome form is for it
    calling_now: bool  # an attempt's phones may be ringing or talking now
    warning: str | None  # due-soon | overdue, as recorded for the duty officer
    warned_at: datetime | None
    messages: int
    last_message_at: datetime | None

    @property
    def attempt_number(self) -> int:
        """The attempt being made or to be made next (the last one made, once closed)."""
        if self.status not in OPEN_STATUSES:
            return self.attempts_made
        return min(self.attempts_made + 1, self.max_attempts)

    @property
    def attempt_label(self) -> str:
        """ "attempt N of M", as the lists show it."""
        return f"attempt {self.attempt_number} of {self.max_attempts}"


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page may narrow the list to; the default is every open callback."""

    office: str | None = None
    status: str | None = None  # one of STATUSES; a closed one lists the last 30 days'
    overdue: bool = False
    unassigned: bool = False
    no_number: bool = False


def queue(
    session: Session,
    settings: Settings,
    now: datetime,
    filters: QueueFilter | None = None,
    *,
    show_numbers: bool,
) -> list[QueueRow]:
    """The queue across both counties, most urgent first; callers' numbers only when
    `show_numbers` (advisers see the queue without them)."""
    wanted = filters or QueueFilter()
    query = select(Callback)
    if wanted.status is None:
        query = query.where(Callback.status.in_(OPEN_STATUSES))
    elif wanted.status not in STATUSES:
        raise ValueError(f"unknown status '{wanted.status}' (use {', '.join(STATUSES)})")
    else:
        query = query.where(Callback.status == wanted.status)
        if wanted.status not in OPEN_STATUSES:
            query = query.where(Callback.closed_at >= now - CLOSED_SHOWN_FOR)
    if wanted.office is not None:
        query = query.where(Callback.office == wanted.office)
    if wanted.unassigned:
        query = query.where(Callback.assigned_to_id.is_(None))
    if wanted.no_number:
        query = query.where(Callback.phone.is_(None))
    if wanted.overdue:
        query = query.where(
            Callback.status.in_(OPEN_STATUSES),
            Callback.due_at <= now,
            deadline_warnings.no_attempt_placed(),
        )
    return _rows(session, settings, query, now, show_numbers)


def my_callbacks(
    session: Session, settings: Settings, adviser_id: int, now: datetime
) -> list[QueueRow]:
    """The open callbacks assigned to the adviser, soonest deadline first, with numbers."""
    query = select(Callback).where(
        Callback.assigned_to_id == adviser_id, Callback.status.in_(OPEN_STATUSES)
    )
    return _rows(session, settings, query, now, show_numbers=True)


def urgency(row: QueueRow) -> tuple[int, float, int]:
    """How the lists order rows: first attempts by deadline (overdue first), then callbacks
    waiting for a retry, then those with no deadline yet, then closed ones, newest first."""
    if row.status not in OPEN_STATUSES:
        closed = row.closed_at or row.created_at
        return (3, -closed.timestamp(), row.callback_id)
    if row.deadline.met:
        waits = row.next_attempt_at or row.created_at
        return (1, waits.timestamp(), row.callback_id)
    if row.deadline.due_at is not None:
        return (0, row.deadline.due_at.timestamp(), row.callback_id)
    return (2, row.created_at.timestamp(), row.callback_id)


def rows_for(
    session: Session,
    settings: Settings,
    callbacks: Sequence[Callback],
    now: datetime,
    show_numbers: bool,
) -> list[QueueRow]:
    """Rows for callbacks whose attempts, warnings, messages and assignee are loaded."""
    ids = [c.id for c in callbacks]
    calling: set[int] = set()
    if ids:
        calling = set(
            session.scalars(
                select(Attempt.callback_id).where(Attempt.callback_id.in_(ids), live(now))
            )
        )
    calendars: dict[str, OfficeCalendar | None] = {}
    rows = []
    for callback in callbacks:
        counted = [a for a in callback.attempts if a.outcome in OUTCOMES]
        # The promise is kept by the first call the helpline placed, as the statistics count
        # it: an outcome logged with no call placed does not keep it.
        first = min((a.started_at for a in callback.attempts if a.placed), default=None)
        calendar = None
        if callback.due_at is not None and first is None:
            if callback.office not in calendars:
                calendars[callback.office] = rota.calendar_if_configured(
                    session, settings, callback.office, now
                )
            calendar = calendars[callback.office]
        flagged = warning(callback)
        warned_at = max(
            (w.created_at for w in callback.warnings if w.kind == flagged), default=None
        )
        office = settings.offices.get(callback.office)
        rows.append(
            QueueRow(
                callback_id=callback.id,
                version=callback.version,
                office=callback.office,
                office_name=office.name if office else callback.office,
                status=callback.status,
                phone=shown_number(callback.phone) if show_numbers else None,
                has_number=shown_number(callback.phone) is not None,
                assigned_to=callback.assigned_to.name if callback.assigned_to else None,
                assigned_to_id=callback.assigned_to_id,
                created_at=callback.created_at,
                closed_at=callback.closed_at,
                deadline=deadline(
                    calendar,
                    callback.due_at,
                    first,
                    now,
                    still_open=callback.status in OPEN_STATUSES,
                ),
                next_attempt_at=callback.next_attempt_at,
                attempts_made=len(counted),
                max_attempts=settings.callbacks.max_attempts,
                awaiting_outcome=any(a.outcome is None for a in callback.attempts),
                calling_now=callback.id in calling,
                warning=flagged,
                warned_at=warned_at,
                messages=len(callback.messages),
                last_message_at=max((m.received_at for m in callback.messages), default=None),
            )
        )
    return sorted(rows, key=urgency)


def _rows(
    session: Session,
    settings: Settings,
    query: Select[Callback],
    now: datetime,
    show_numbers: bool,
) -> list[QueueRow]:
    loaded = session.scalars(
        query.options(
            joinedload(Callback.assigned_to),
            selectinload(Callback.attempts),
            selectinload(Callback.warnings),
            selectinload(Callback.messages),
        ).order_by(Callback.id)
    ).all()
    return rows_for(session, settings, loaded, now, show_numbers)
