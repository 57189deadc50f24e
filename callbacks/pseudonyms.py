"""The pseudonymise-numbers job: callers' numbers past retention become keyed pseudonyms.

`retention.number_days` after a call ended, or after a callback closed, the caller's number in
the call, the callback and its messages is replaced by `helpline.phones.pseudonym`: an HMAC of
the number under PSEUDONYM_KEY. The same number always gives the same pseudonym, so a repeat
caller's calls and callbacks still join up, and the statistics, which hold no numbers, are the
same before and after. While a caller has an open callback their number is left everywhere.

Rows are claimed in batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL), each batch in its own
short transaction; running the job again changes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from callbacks.job_results import Pseudonymised
from callbacks.jobkit import JobContext, claim
from callbacks.models import Callback, Message
from callbacks.states import OPEN_STATUSES
from calls.models import Call
from helpline.db import unit_of_work
from helpline.phones import PSEUDONYM_PREFIX, pseudonym

log = logging.getLogger("helpline.jobs")

JOB = "pseudonymise-numbers"
MIN_KEY_LENGTH = 16


class PseudonymKeyMissing(RuntimeError):
    """PSEUDONYM_KEY is not set (or too short): no number can be replaced by its pseudonym."""


def pseudonymise_numbers(
    sessions: sessionmaker[Session], ctx: JobContext, now: datetime
) -> Pseudonymised:
    """Replace callers' numbers by their keyed pseudonyms in the calls that ended, and the
    callbacks (with their messages) that closed, `number_days` ago; audited with the counts."""
    key = ctx.settings.pseudonym_key
    if not key or len(key) < MIN_KEY_LENGTH:
        log.error(
            "pseudonymise-numbers refused: set PSEUDONYM_KEY (%s characters or more) to "
            "replace callers' numbers past retention",
            MIN_KEY_LENGTH,
        )
        raise PseudonymKeyMissing(f"PSEUDONYM_KEY of {MIN_KEY_LENGTH} characters or more")
    audit = ctx.audit_log()
    cutoff = now - timedelta(days=ctx.settings.retention.number_days)
    counts = {
        "callbacks": _each_batch(sessions, lambda s: _callbacks(s, key, cutoff)),
        "messages": _each_batch(sessions, lambda s: _messages(s, key, cutoff)),
        "calls": _each_batch(sessions, lambda s: _calls(s, key, cutoff)),
    }
    if any(counts.values()):
        with unit_of_work(sessions) as session:
            audit(session, JOB, "numbers-pseudonymised", "retention", None, dict(counts), at=now)
    return Pseudonymised(**counts)


def _each_batch(sessions: sessionmaker[Session], batch: Callable[[Session], int]) -> int:
    """Run `batch` in short transactions until it finds nothing more; the rows changed."""
    total = 0
    while True:
        with unit_of_work(sessions) as session:
            changed = batch(session)
        total += changed
        if not changed:
            return total


def _plain(column: InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
    """The column holds a number (not nothing, not already a pseudonym)."""
    return and_(column.is_not(None), column.not_like(PSEUDONYM_PREFIX + "%"))


def _kept_numbers() -> Any:
    """The numbers of open callbacks: never replaced anywhere while the callback is open."""
    return select(Callback.phone).where(
        Callback.status.in_(OPEN_STATUSES), Callback.phone.is_not(None)
    )


def _closed_long_ago(cutoff: datetime) -> Any:
    return select(Callback.id).where(
        Callback.status.not_in(OPEN_STATUSES), Callback.closed_at < cutoff
    )


def _replace(rows: Sequence[Any], columns: Sequence[str], key: str) -> int:
    for row in rows:
        for name in columns:
            value = getattr(row, name)
            if value is not None and not value.startswith(PSEUDONYM_PREFIX):
                setattr(row, name, pseudonym(value, key))
    return len(rows)


def _callbacks(session: Session, key: str, cutoff: datetime) -> int:
    rows = claim(
        session,
        select(Callback)
        .where(
            Callback.id.in_(_closed_long_ago(cutoff)),
            _plain(Callback.phone),
            Callback.phone.not_in(_kept_numbers()),
        )
        .order_by(Callback.id),
    )
    changed = _replace(rows, ("phone",), key)
    session.flush()
    return changed


def _messages(session: Session, key: str, cutoff: datetime) -> int:
    rows = claim(
        session,
        select(Message)
        .where(
            _plain(Message.phone),
            Message.phone.not_in(_kept_numbers()),
            or_(
                Message.callback_id.in_(_closed_long_ago(cutoff)),
                and_(Message.callback_id.is_(None), Message.received_at < cutoff),
            ),
        )
        .order_by(Message.id),
    )
    changed = _replace(rows, ("phone",), key)
    session.flush()
    return changed


CALL_NUMBERS = ("from_number", "callback_number", "keyed_number")


def _calls(session: Session, key: str, cutoff: datetime) -> int:
    kept = _kept_numbers()
    # A call whose message belongs to a callback not yet closed that long keeps its number.
    still_needed = select(Message.call_id).where(
        Message.call_id.is_not(None),
        or_(
            and_(Message.callback_id.is_(None), Message.received_at >= cutoff),
            and_(
                Message.callback_id.is_not(None),
                Message.callback_id.not_in(_closed_long_ago(cutoff)),
            ),
        ),
    )
    rows = claim(
        session,
        select(Call)
        .where(
            Call.ended_at < cutoff,
            or_(_plain(Call.from_number), _plain(Call.callback_number), _plain(Call.keyed_number)),
            or_(Call.from_number.is_(None), Call.from_number.not_in(kept)),
            or_(Call.callback_number.is_(None), Call.callback_number.not_in(kept)),
            Call.id.not_in(still_needed),
        )
        .order_by(Call.id),
    )
    changed = _replace(rows, CALL_NUMBERS, key)
    session.flush()
    return changed
