"""What routing reads about the advisers in one statement, and the claim on the one it chose.

The pure `calls.routing` and `rota.availability` decide who is next; the claim only enforces
that decision against whatever other calls decided meanwhile. On PostgreSQL routing decisions
run side by side: each claims its adviser's row (`FOR NO KEY UPDATE SKIP LOCKED`), then checks
afresh that nobody rang or connected them since it read, so two calls never take one free
adviser, and routing for other advisers never waits for it. SQLite lets one writer in at a time, so
there the check alone suffices. Services flush; the caller commits.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from calls.models import Call, CallLeg
from calls.states import OPEN_LEG_STATES, LegState
from helpline.db import flushed
from helpline.settings import Settings
from rota import service as rota
from rota.availability import OnShift
from rota.models import Adviser


@dataclass
class Advisers:
    """Advisers on shift now, and who of all advisers is busy, being rung, and rung when."""

    working: list[OnShift]
    busy: set[int] = field(default_factory=set)  # on a helpline call
    ringing: set[int] = field(default_factory=set)  # being rung for another call
    last_rung: dict[int, datetime] = field(default_factory=dict)
    # Of the offices asked about, those with a closure in force; known only when somebody is on
    # shift (with nobody to ring, whether an office is open decides nothing).
    closed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class BusyElsewhere:
    """Advisers busy outside the call log (making a call back, say), as routing's read asks:
    `ids` selects them, with bind parameters that `values(now)` fills (named apart from the
    advisers' query's own: now, busy_since, ringing_since, fairness_since, call_id)."""

    ids: Select[Any]
    values: Callable[[datetime], dict[str, Any]]


@dataclass(frozen=True)
class Windows:
    """The instants that say whether a leg still counts as ringing or as a conversation."""

    ringing_since: datetime
    busy_since: datetime
    fairness_since: datetime

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Windows:
        """The windows at `now`."""
        routing = settings.routing
        ring = timedelta(seconds=routing.ring_seconds + routing.screen_seconds + 60)
        return cls(
            ringing_since=now - ring,
            busy_since=now - timedelta(hours=routing.busy_after_accept_hours),
            fairness_since=now - timedelta(days=1),
        )


def busy_leg(since: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """A leg whose adviser is on a call: accepted since `since` (Windows.busy_since) and open."""
    return and_(
        CallLeg.state == LegState.ACCEPTED,
        CallLeg.ended_at.is_(None),
        CallLeg.accepted_at > since,
    )


def ringing_leg(
    since: datetime | ColumnElement[datetime], call_id: int | ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """A leg whose adviser is being rung: begun since `since` (Windows.ringing_since) and not
    yet answered or ended; with `call_id`, for a call other than that one."""
    ringing = and_(
        CallLeg.state.in_(OPEN_LEG_STATES),
        CallLeg.ended_at.is_(None),
        CallLeg.started_at > since,
    )
    return ringing if call_id is None else and_(ringing, CallLeg.call_id != call_id)


@cache
def _advisers_now_query(elsewhere: Select[Any] | None, offices: int) -> Select[*tuple[Any, ...]]:
    """Who is on shift, with each adviser's legs summed up, whether they are busy outside the
    call log (given `elsewhere`), and whether each of `offices` offices (bound as office_0...)
    is closed: built once, its instants and the call bound each time it runs (building it anew
    for every call cost more than running it)."""
    busy = busy_leg(bindparam("busy_since"))
    ringing = ringing_leg(bindparam("ringing_since"), bindparam("call_id"))
    fairness_since: BindParameter[datetime] = bindparam("fairness_since")
    fair = and_(CallLeg.started_at > fairness_since, CallLeg.state != LegState.CANCELLED)
    # Grouped by an expression, so that SQLite reads the legs through the indexes the WHERE
    # clause names rather than walking every leg ever rung in adviser order.
    adviser_id = (CallLeg.adviser_id + 0).label("adviser_id")
    legs = (
        select(
            adviser_id,
            func.max(case((fair, CallLeg.started_at))).label("last_rung"),
            func.max(case((busy, 1), else_=0)).label("busy"),
            func.max(case((ringing, 1), else_=0)).label("ringing"),
        )
        .where(or_(CallLeg.started_at > fairness_since, busy))
        .group_by(adviser_id)
        .subquery()
    )
    now: BindParameter[datetime] = bindparam("now")
    busy_elsewhere = Adviser.id.in_(elsewhere) if elsewhere is not None else false()
    return (
        rota.working_now(now)
        .add_columns(legs.c.last_rung, legs.c.busy, legs.c.ringing, busy_elsewhere)
        .add_columns(
            *(rota.closure_in_force(bindparam(f"office_{i}"), now) for i in range(offices))
        )
        .outerjoin(legs, legs.c.adviser_id == Adviser.id)
    )


def advisers_now(
    session: Session,
    settings: Settings,
    call: Call,
    now: datetime,
    elsewhere: BusyElsewhere | None = None,
    offices: Sequence[str] = (),
) -> Advisers:
    """Who is on shift, with each adviser's legs summed up, in one statement; advisers
    `elsewhere` names count as busy, and `offices` are each found closed or not.

    Fairness only needs today's ringing, read through the started_at index; a conversation
    counts as busy for `busy_after_accept_hours`, read through the state index."""
    w = Windows.at(settings, now)
    values = {
        "now": now,
        "busy_since": w.busy_since,
        "ringing_since": w.ringing_since,
        "fairness_since": w.fairness_since,
        "call_id": call.id,
        **(elsewhere.values(now) if elsewhere is not None else {}),
        **{f"office_{i}": key for i, key in enumerate(offices)},
    }
    query = _advisers_now_query(elsewhere.ids if elsewhere is not None else None, len(offices))
    found = Advisers(working=[])
    for row in flushed(session).execute(query, values):
        found.closed.update(key for i, key in enumerate(offices) if row[10 + i])
        adviser_id, last_rung, busy, ringing = row[0], row[6], row[7] or row[9], row[8]
        found.working.append(rota.on_shift_now(row))
        if last_rung is not None:
            found.last_rung[adviser_id] = last_rung
        if busy:
            found.busy.add(adviser_id)
        if ringing:
            found.ringing.add(adviser_id)
    return found


class Claim(enum.Enum):
    """What claiming an adviser found."""

    CLAIMED = "claimed"  # theirs to ring now
    RINGING = "ringing"  # another call has started (or is starting) to ring them since the read
    TAKEN = "taken"  # they have taken a call since the read
    HELD = "held"  # another decision (or their own answer) holds them this instant


def claim(
    session: Session,
    settings: Settings,
    call: Call,
    adviser_id: int,
    now: datetime,
    *,
    ringing_allowed: bool,
    wait: bool = False,
) -> Claim:
    """Claim the adviser routing chose, until the transaction ends; see the module's note.

    An adviser another decision holds this instant is HELD (skipped), unless `wait`. A failed
    claim lets the adviser go at once (a savepoint rolled back), so a decision holds at most
    the adviser it rings: one that waits holds none, and no two decisions wait on each other."""
    if session.get_bind().dialect.name != "postgresql":
        return _check(session, settings, call, adviser_id, now, ringing_allowed)
    attempt = session.begin_nested()
    # A free adviser is claimed alone (FOR NO KEY UPDATE). One already being rung is shared by
    # the calls ringing them again (FOR SHARE), so those never queue behind each other; both
    # locks conflict with the one an adviser's answer takes (`hold_for_answer`).
    held = flushed(session).scalar(
        _lock_query(ringing_allowed, not wait), {"adviser_id": adviser_id}
    )
    found = (
        _check(session, settings, call, adviser_id, now, ringing_allowed)
        if held is not None
        else Claim.HELD
    )
    if found is Claim.CLAIMED:
        attempt.commit()
    else:
        attempt.rollback()
    return found


def _check(
    session: Session,
    settings: Settings,
    call: Call,
    adviser_id: int,
    now: datetime,
    ringing_allowed: bool,
) -> Claim:
    w = Windows.at(settings, now)
    # A statement of its own, so that it sees whatever the last holder of the claim committed.
    values = {
        "adviser_id": adviser_id,
        "busy_since": w.busy_since,
        "ringing_since": w.ringing_since,
        "call_id": call.id,
    }
    states: Sequence[LegState] = flushed(session).scalars(_check_query(), values).all()
    if LegState.ACCEPTED in states:
        return Claim.TAKEN
    if states and not ringing_allowed:
        return Claim.RINGING
    return Claim.CLAIMED


@cache
def _lock_query(shared: bool, skip_locked: bool) -> Select[int]:
    """Lock the adviser's row: shared by the calls ringing them again, or alone. Built once."""
    return (
        select(Adviser.id)
        .where(Adviser.id == bindparam("adviser_id"))
        .with_for_update(read=shared, key_share=not shared, skip_locked=skip_locked)
    )


@cache
def _check_query() -> Select[LegState]:
    """The states of the adviser's legs that make them busy or ringing. Built once."""
    return select(CallLeg.state).where(
        CallLeg.adviser_id == bindparam("adviser_id"),
        CallLeg.ended_at.is_(None),
        or_(
            busy_leg(bindparam("busy_since")),
            ringing_leg(bindparam("ringing_since"), bindparam("call_id")),
        ),
    )


def hold_for_answer(session: Session, adviser_id: int) -> None:
    """Hold the adviser while their answer is recorded, so that no routing decision rings them
    in between (PostgreSQL; SQLite lets one writer in at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Adviser.id).where(Adviser.id == adviser_id).with_for_update(key_share=True)
        )
