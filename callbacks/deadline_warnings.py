"""Which deadline warning a callback deserves now, and withdrawing those no longer true."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from callbacks import common
from callbacks.models import Callback
from callbacks.states import OPEN_STATUSES
from callbacks.working_time import working_seconds_between
from helpline.settings import Settings
from rota import service as rota
from rota.calendar import OfficeCalendar


def warning_now(
    calendar: OfficeCalendar | None, due: datetime | None, now: datetime, warn_seconds: float
) -> str | None:
    """The warning a first attempt due at `due` deserves at `now`: overdue, due-soon or None."""
    if due is None:
        return None
    if due <= now:
        return "overdue"
    opening = calendar.next_opening(now) if calendar is not None else None
    # An office no longer configured, or closed past the deadline (until further notice, say),
    # has no working time to count in: plain time, then, rather than none at all.
    left = (
        working_seconds_between(calendar, now, due)
        if calendar is not None and opening is not None and opening < due
        else (due - now).total_seconds()
    )
    return "due-soon" if left <= warn_seconds else None


def no_attempt_placed() -> ColumnElement[bool]:
    """The callback's first attempt is still to be made: none of its attempts was placed
    through Twilio (`first_attempt_at`, set when one is). An attempt only logged, with an
    outcome but no call placed, keeps no promise: the deadline shown and the statistics say so,
    and the warnings and the queue's overdue filter agree."""
    return Callback.first_attempt_at.is_(None)


def withdraw_stale(
    session: Session, callback: Callback, kind: str | None, actor: str, now: datetime
) -> None:
    """Remove the callback's warnings that `kind`, the one it deserves now, no longer backs."""
    # An overdue callback keeps its earlier due-soon warning: both were true in turn.
    keep = {"due-soon", "overdue"} if kind == "overdue" else {kind}
    for stale in [w for w in callback.warnings if w.kind not in keep]:
        callback.warnings.remove(stale)
        session.delete(stale)
        common.event(session, callback, f"warning-{stale.kind}-withdrawn", actor, now)


def withdraw_stale_of_office(
    session: Session, settings: Settings, office: str, actor: str, now: datetime
) -> None:
    """Withdraw the warnings of the office's open callbacks that no longer hold (on reopening,
    say), so the queue does not wait for the next warn-deadlines run to drop them."""
    warned = session.scalars(
        select(Callback)
        .where(
            Callback.office == office,
            Callback.status.in_(OPEN_STATUSES),
            Callback.warnings.any(),
            no_attempt_placed(),
        )
        .options(selectinload(Callback.warnings))
    ).all()
    if not warned:
        return
    calendar = rota.calendar_if_configured(session, settings, office, now)
    warn_seconds = settings.callbacks.warn_before_hours * 3600
    for callback in warned:
        kind = warning_now(calendar, callback.due_at, now, warn_seconds)
        withdraw_stale(session, callback, kind, actor, now)
    session.flush()
