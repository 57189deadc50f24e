"""The audit log: what staff did or tried, added to and never changed.

Detail is plain data about the action (a role, a count, an outcome); it never holds personal
data such as a caller's phone number or a note's text: name the subject by its id instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, AuditEntry

COMMAND_LINE = "helpline command"  # the actor named for changes made with the command
SYSTEM = "system: "  # the actor named for a scheduled job, followed by the job's name


def record(
    session: Session,
    actor: Account | None,
    action: str,
    subject_type: str,
    subject_id: object | None,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime,
    actor_email: str | None = None,
) -> AuditEntry:
    """Add one entry to the audit log (flushed, not committed); `actor_email` names who acted
    when there is no account, such as a failed sign-in's email or the command line."""
    entry = AuditEntry(
        at=at,
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor.email if actor is not None else actor_email or COMMAND_LINE)[:254],
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def record_for_job(
    session: Session,
    job: str,
    action: str,
    subject_type: str,
    subject_id: object | None,
    detail: dict[str, Any],
    *,
    at: datetime,
) -> None:
    """Add an entry for what a scheduled job did; its actor is "system: <job>", no account."""
    record(session, None, action, subject_type, subject_id, detail, at=at, actor_email=SYSTEM + job)


@dataclass(frozen=True)
class Page:
    """One page of the audit log, newest first."""

    entries: list[AuditEntry]
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        """The number of the last page (1 when the log is empty)."""
        return max(1, -(-self.total // self.size))


def page(session: Session, number: int = 1, size: int = 50) -> Page:
    """The entries of page `number` (from 1), newest first."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    last = max(1, -(-total // size))
    number = min(max(1, number), last)
    entries = session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    return Page(list(entries), number, size, total)
