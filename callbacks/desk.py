"""Staff actions as the pages make them: each names a callback by id and the version the person
saw, and either takes effect or says what changed meanwhile.

Two people acting on one callback at once: the callback's row is locked for the rest of the
transaction before the version is compared, so on PostgreSQL the second waits for the first to
commit, then finds a newer version and is told what changed (`Changed`), with nothing of theirs
written; the page keeps what they typed. Notes never conflict. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import access, attempts, calling_back, staff_actions
from callbacks.common import CallbackError, Conflict
from callbacks.models import Callback, CallbackEvent, Note
from callbacks.page import NotYours
from callbacks.states import CallbackStatus
from helpline.db import unit_of_work
from helpline.runtime import Runtime
from helpline.settings import Settings
from rota.models import Adviser

NOTE_MAX_CHARS = 5000


@dataclass(frozen=True)
class CallbackState:
    """A callback as it stands now, for telling someone what changed since they looked."""

    callback_id: int
    status: str
    assigned_to: str | None
    assigned_to_id: int | None
    version: int
    last_change: str | None = None  # the kind of the latest event, e.g. "assigned"
    last_change_by: str | None = None
    last_change_at: datetime | None = None


class Changed(Conflict):
    """Someone else changed the callback since the person looked at it; nothing was written."""

    def __init__(self, current: CallbackState, expected_version: int | None, why: str) -> None:
        self.current = current
        self.expected_version = expected_version
        holder = f" with {current.assigned_to}" if current.assigned_to else ""
        super().__init__(
            f"callback {current.callback_id} {why}: it is now {current.status}{holder}. "
            "Nothing was changed; look at it again and try once more."
        )


@dataclass(frozen=True)
class Done:
    """What an action left: the callback's status, holder and new version, and a warning to
    show (an assignment to someone off shift or away), if any."""

    callback_id: int
    status: str
    assigned_to: str | None
    version: int
    warning: str | None = None


def state_of(session: Session, callback: Callback) -> CallbackState:
    """The callback as it stands, with its latest recorded change."""
    latest = session.scalars(
        select(CallbackEvent)
        .where(CallbackEvent.callback_id == callback.id)
        .order_by(CallbackEvent.at.desc(), CallbackEvent.id.desc())
        .limit(1)
    ).first()
    return CallbackState(
        callback_id=callback.id,
        status=callback.status,
        assigned_to=callback.assigned_to.name if callback.assigned_to else None,
        assigned_to_id=callback.assigned_to_id,
        version=callback.version,
        last_change=latest.kind if latest else None,
        last_change_by=latest.actor if latest else None,
        last_change_at=latest.at if latest else None,
    )


def for_change(session: Session, callback_id: int, expected_version: int | None) -> Callback:
    """The callback read afresh and locked until the transaction ends; `Changed` when its
    version is no longer `expected_version` (None: whatever version it has)."""
    callback = session.scalar(
        select(Callback)
        .where(Callback.id == callback_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if callback is None:
        raise CallbackError(f"no callback {callback_id}")
    if expected_version is not None and callback.version != expected_version:
        raise Changed(state_of(session, callback), expected_version, "was changed by someone else")
    return callback


def require_yours(callback: Callback, as_adviser: int | None) -> None:
    """NotYours unless a person acting as `as_adviser` (see `access.acting_as`; None: anyone
    may act) may act on the callback."""
    if not access.may_act_on(callback.assigned_to_id, as_adviser):
        raise NotYours(f"callback {callback.id} is not assigned to you")


def _adviser(session: Session, adviser_id: int) -> Adviser:
    adviser = session.get(Adviser, adviser_id)
    if adviser is None:
        raise CallbackError(f"no adviser {adviser_id}")
    return adviser


def _done(callback: Callback, warning: str | None = None) -> Done:
    holder = callback.assigned_to.name if callback.assigned_to else None
    return Done(callback.id, callback.status, holder, callback.version, warning)


def _assigned(
    session: Session,
    settings: Settings,
    callback: Callback,
    adviser: Adviser,
    actor: str,
    now: datetime,
) -> Done:
    off_shift = staff_actions.assign(session, callback, adviser, actor, now)
    warnings = []
    if off_shift is not None:
        warnings.append(off_shift.warning(settings.timezone))
    if adviser.away:
        warnings.append(f"{adviser.name} has set themself away, so is not working callbacks now.")
    return _done(callback, " ".join(warnings) or None)


def assign(
    session: Session,
    settings: Settings,
    callback_id: int,
    adviser_id: int,
    actor: str,
    now: datetime,
    *,
    expected_version: int | None,
) -> Done:
    """Assign or reassign the callback to an adviser; allowed off shift, with a warning."""
    callback = for_change(session, callback_id, expected_version)
    return _assigned(session, settings, callback, _adviser(session, adviser_id), actor, now)


def take(
    session: Session,
    settings: Settings,
    callback_id: int,
    adviser_id: int,
    actor: str,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> Done:
    """An adviser takes an unassigned open callback from the queue; of two taking the same
    one, the first wins and the second gets `Changed`."""
    callback = for_change(session, callback_id, expected_version)
    if callback.status != CallbackStatus.OPEN or callback.assigned_to_id is not None:
        why = "has already been taken" if callback.assigned_to_id else "is no longer open"
        raise Changed(state_of(session, callback), expected_version, why)
    return _assigned(session, settings, callback, _adviser(session, adviser_id), actor, now)


def close(
    session: Session,
    callback_id: int,
    reason: str,
    actor: str,
    now: datetime,
    *,
    expected_version: int | None,
) -> Done:
    """Cancel the callback, with the reason no call back is needed."""
    callback = for_change(session, callback_id, expected_version)
    staff_actions.close(session, callback, reason, actor, now)
    return _done(callback)


def record_outcome(
    session: Session,
    settings: Settings,
    callback_id: int,
    outcome: str,
    actor: str,
    now: datetime,
    *,
    expected_version: int | None,
    note: str | None = None,
    author_account_id: int | None = None,
    as_adviser: int | None = None,
) -> Done:
    """Record how the attempt went (see `callbacks.attempts.record_outcome`); a note given
    with it is kept among the callback's notes. `as_adviser`: an adviser acting on their own
    callbacks only (NotYours otherwise)."""
    callback = for_change(session, callback_id, expected_version)
    require_yours(callback, as_adviser)
    attempts.record_outcome(
        session,
        settings,
        callback,
        outcome,
        actor,
        now,
        note=note,
        author_account_id=author_account_id,
    )
    return _done(callback)


def add_note(
    session: Session,
    callback_id: int,
    author: str,
    text: str,
    now: datetime,
    *,
    author_account_id: int | None = None,
    as_adviser: int | None = None,
) -> Note:
    """Add a note for colleagues, on a callback open or closed; notes never conflict.
    `as_adviser`: an adviser noting their own callbacks only (NotYours otherwise)."""
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise CallbackError(f"no callback {callback_id}")
    require_yours(callback, as_adviser)
    if not text.strip():
        raise CallbackError("a note needs some text")
    if len(text.strip()) > NOTE_MAX_CHARS:
        raise CallbackError(f"a note may be at most {NOTE_MAX_CHARS} characters")
    return staff_actions.add_note(
        session, callback, author, text, now, author_account_id=author_account_id
    )


def call_back(
    runtime: Runtime,
    callback_id: int,
    actor: str,
    adviser_id: int,
    *,
    urls: calling_back.AttemptUrls,
    may_see_all: bool,
) -> calling_back.CallBackResult:
    """Ring the person's own adviser phone, then the parent (see `callbacks.calling_back`).
    An adviser may call back only their own callbacks; one who may see all takes it on."""
    with unit_of_work(runtime.sessions) as session:
        callback = session.get(Callback, callback_id)
        if callback is None:
            raise CallbackError(f"no callback {callback_id}")
        owner = access.acting_as(adviser_id, may_see_all)
        require_yours(callback, owner)
        name = _adviser(session, adviser_id).name
    return calling_back.call_back(
        runtime, callback_id, actor, name, urls=urls, only_if_assigned_to=owner
    )
