"""One callback as its page shows it: its row, messages, attempts, notes and history.

The history is read from the audit events every action records, put into plain words; the
adviser's name stands for their id, so the page shows people, never numbers of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from callbacks import access
from callbacks.common import CallbackError
from callbacks.listing import QueueRow, rows_for
from callbacks.models import Attempt, Callback, CallbackEvent
from callbacks.states import CallbackStatus
from helpline.settings import Settings
from rota.models import Adviser


class NotYours(CallbackError):
    """The person may open only callbacks assigned to their adviser."""


@dataclass(frozen=True)
class MessageItem:
    """A message left by the caller; `deleted` once its recording is gone after retention."""

    recording_sid: str
    duration_s: int
    received_at: datetime
    office: str
    deleted: bool


@dataclass(frozen=True)
class AttemptItem:
    """A call-back attempt: who, when, its outcome and who gave it ('twilio' or 'adviser')."""

    attempt_id: int
    adviser: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    outcome_source: str | None
    placed: bool
    parent_seconds: int | None


@dataclass(frozen=True)
class NoteItem:
    """A note by a member of staff."""

    author: str
    author_account_id: int | None
    text: str
    created_at: datetime


@dataclass(frozen=True)
class HistoryItem:
    """Something that happened to the callback, in words, with who did it and when."""

    at: datetime
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class CallbackPage:
    """Everything the page of one callback shows."""

    row: QueueRow
    close_reason: str | None
    messages: list[MessageItem]
    attempts: list[AttemptItem]
    notes: list[NoteItem]
    history: list[HistoryItem]


def callback_page(
    session: Session,
    settings: Settings,
    callback_id: int,
    now: datetime,
    *,
    adviser_id: int | None,
    may_see_all: bool,
) -> CallbackPage:
    """The callback's page; CallbackError when there is none, NotYours when the person may
    not open it."""
    callback = session.scalar(
        select(Callback)
        .where(Callback.id == callback_id)
        .options(
            joinedload(Callback.assigned_to),
            selectinload(Callback.attempts).joinedload(Attempt.adviser),
            selectinload(Callback.warnings),
            selectinload(Callback.messages),
            selectinload(Callback.notes),
        )
    )
    if callback is None:
        raise CallbackError(f"no callback {callback_id}")
    if not access.may_act_on(callback.assigned_to_id, access.acting_as(adviser_id, may_see_all)):
        raise NotYours(f"callback {callback_id} is not assigned to you")
    (row,) = rows_for(session, settings, [callback], now, show_numbers=True)
    return CallbackPage(
        row=row,
        close_reason=callback.close_reason,
        messages=[
            MessageItem(
                m.recording_sid, m.duration_s, m.received_at, m.office, m.deleted_at is not None
            )
            for m in callback.messages
        ],
        attempts=[
            AttemptItem(
                a.id,
                a.adviser.name if a.adviser else None,
                a.started_at,
                a.ended_at,
                a.outcome,
                a.outcome_source,
                a.placed,
                a.parent_seconds,
            )
            for a in callback.attempts
        ],
        notes=[
            NoteItem(n.author, n.author_account_id, n.text, n.created_at) for n in callback.notes
        ],
        history=history(session, settings, callback),
    )


def history(session: Session, settings: Settings, callback: Callback) -> list[HistoryItem]:
    """What happened to the callback, oldest first, from its recorded events."""
    events = session.scalars(
        select(CallbackEvent)
        .where(CallbackEvent.callback_id == callback.id)
        .order_by(CallbackEvent.at, CallbackEvent.id)
    ).all()
    ids = {e.detail.get("adviser_id") for e in events if isinstance(e.detail, dict)}
    wanted = [i for i in ids if isinstance(i, int)]
    names: dict[int, str] = {}
    if wanted:
        query = select(Adviser.id, Adviser.name).where(Adviser.id.in_(wanted))
        names = {adviser_id: name for adviser_id, name in session.execute(query)}
    offices = {key: office.name for key, office in settings.offices.items()}
    return [
        HistoryItem(e.at, e.actor, e.kind, describe(e.kind, e.detail or {}, names, offices))
        for e in events
    ]


_FIXED = {
    "created": "Callback created from a message",
    "requested": "Callback created: the caller asked to be called back",
    "missed-call": "Callback created from a missed call",
    "missed-call-joined": "Another missed call from the same number",
    "request-joined": "The caller asked again to be called back",
    "number-found": "The caller's number was found for a message left before its call was known",
    "attempt-started": "Call-back attempt started",
    "attempt-not-placed": "Call-back attempt not placed",
    "parent-dialled": "The adviser accepted; the parent's phone was dialled",
    "adviser-cancelled": "The adviser hung up before the parent answered",
    "adviser-missed": "The adviser's phone did not take the call back; it does not count",
    "retry-due": "The time for the next attempt came",
    "warning-due-soon": "Warning: the first attempt is due soon",
    "warning-overdue": "Warning: the first attempt is overdue",
    "warning-due-soon-withdrawn": "The due-soon warning no longer held and was withdrawn",
    "warning-overdue-withdrawn": "The overdue warning no longer held and was withdrawn",
    "clock-started": "The office's opening came into sight: the deadline was set",
}

_CLOSED = {"completed": "completed", "unreachable": "closed as unreachable"}


def describe(
    kind: str, detail: dict[str, Any], names: dict[int, str], offices: dict[str, str]
) -> str:
    """One event in words."""
    office = offices.get(str(detail.get("office")), detail.get("office"))
    if kind in ("created", "requested", "missed-call") and office:
        return f"{_FIXED[kind]} ({office})"
    if kind == "message-joined":
        return f"A new message joined ({office})" if office else "A new message joined"
    if kind == "assigned":
        who = names.get(detail.get("adviser_id", -1), "an adviser")
        previous = detail.get("previous")
        text = f"Reassigned from {previous} to {who}" if previous else f"Assigned to {who}"
        return text + (" (off shift)" if detail.get("off_shift") else "")
    if kind == "returned-to-pool":
        reason = detail.get("reason")
        return f"Returned to the pool ({reason})" if reason else "Returned to the pool"
    if kind == "cancelled":
        reason = detail.get("reason")
        return f"Closed: {reason}" if reason else "Closed"
    if kind.startswith("outcome-"):
        return _outcome(kind, detail)
    if kind == "attempt-not-placed" and detail.get("reason"):
        return f"{_FIXED[kind]}: {detail['reason']}"
    return _FIXED.get(kind, kind.replace("-", " ").capitalize())


def _outcome(kind: str, detail: dict[str, Any]) -> str:
    if kind == "outcome-corrected":
        text = f"Outcome corrected from {detail.get('replaced')} to {detail.get('outcome')}"
    else:
        outcome = kind.removeprefix("outcome-").replace("-", " ")
        text = f"Outcome: {outcome}" + (" (reported by Twilio)" if detail.get("automatic") else "")
        if detail.get("replaced"):
            text += f", replacing {detail['replaced']}"
    status = detail.get("status")
    if status in _CLOSED:
        text += f"; callback {_CLOSED[status]}"
    elif status == CallbackStatus.OPEN:
        text += "; a retry will follow"
    return text
