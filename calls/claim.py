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
from collections.abc import Callable, Iterable, Sequence
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
    exists,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from calls.models import Call, CallLeg
from calls.states import OPEN_LEG_STATES, LegState
from helpline.db import flushed
from helpline.driver import DriverStatement, compiled_once, run_commands, run_script
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
    for every call cost more than running it).

    Each adviser's last ring is read through the index of their legs by start, and whether they
    are busy or ringing through the index of their open legs: lookups for each adviser, so that
    the read costs the same however many calls the day has had, and the plan holds before
    the database has gathered statistics on a new table."""
    fairness_since: BindParameter[datetime] = bindparam("fairness_since")
    legs = (CallLeg.adviser_id == Adviser.id,)
    # Open legs through the partial index of each adviser's open legs.
    open_legs = (*legs, CallLeg.ended_at.is_(None))
    busy = exists().where(*open_legs, busy_leg(bindparam("busy_since")))
    ringing = exists().where(
        *open_legs, ringing_leg(bindparam("ringing_since"), bindparam("call_id"))
    )
    last_rung = (
        select(func.max(CallLeg.started_at))
        .where(*legs, CallLeg.started_at > fairness_since, CallLeg.state != LegState.CANCELLED)
        .scalar_subquery()
    )
    now: BindParameter[datetime] = bindparam("now")
    busy_elsewhere = Adviser.id.in_(elsewhere) if elsewhere is not None else false()
    return (
        rota.working_now(now)
        .add_columns(last_rung, busy, ringing, busy_elsewhere)
        .add_columns(
            *(rota.closure_in_force(bindparam(f"office_{i}"), now) for i in range(offices))
        )
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

    Fairness only needs today's ringing, read through the index of each adviser's legs by
    start; a conversation counts as busy for `busy_after_accept_hours`, read through the index
    of open conversations. On PostgreSQL it runs through psycopg (`helpline.driver`)."""
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
    connection = flushed(session)
    rows: Iterable[Sequence[Any]]
    if connection.dialect.name == "postgresql":
        rows = compiled_once(query).run(connection, values)  # every call reads it
    else:
        rows = connection.execute(query, values)
    found = Advisers(working=[])
    for row in rows:
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
    the adviser it rings: one that waits holds none, and no two decisions wait on each other.

    On PostgreSQL it costs two round trips on psycopg's own connection (`helpline.driver`):
    the savepoint with the lock, then the check. A claim that succeeds leaves its savepoint
    open: the transaction's end ends it, as it ends the lock. One that fails rolls back to it
    and releases it in a third, so that failed claims never pile savepoints up.

    SQLAlchemy does not know of this savepoint, so whatever the webhook writes after a claim
    (the leg, say) is written inside it. That is safe only because nothing rolls back to it
    but a failed claim, straight after making it: no other path may name it."""
    values = {"adviser_id": adviser_id, **_check_values(settings, call, now)}
    if session.get_bind().dialect.name != "postgresql":
        taken, ringing = flushed(session).execute(_check_query(), values).one()
        return _found(taken, ringing, ringing_allowed)
    connection = flushed(session)
    statements = _driver_statements()
    # A free adviser is claimed alone (FOR NO KEY UPDATE). One already being rung is shared by
    # the calls ringing them again (FOR SHARE), so those never queue behind each other; both
    # locks conflict with the one an adviser's answer takes (`hold_for_answer`).
    lock = statements.lock[(ringing_allowed, not wait)]
    held = run_script(connection, lock.replace(_ADVISER, str(int(adviser_id))))
    found = Claim.HELD
    if held:
        # A statement of its own, so that it sees whatever the last holder of the claim
        # committed.
        ((taken, ringing),) = statements.check.run(connection, values)
        found = _found(taken, ringing, ringing_allowed)
    if found is not Claim.CLAIMED:
        run_commands(connection, statements.undo)
    return found


def _check_values(settings: Settings, call: Call, now: datetime) -> dict[str, Any]:
    w = Windows.at(settings, now)
    return {"busy_since": w.busy_since, "ringing_since": w.ringing_since, "call_id": call.id}


def _found(taken: bool, ringing: bool, ringing_allowed: bool) -> Claim:
    """What the adviser's open legs, read after the claim, say."""
    if taken:
        return Claim.TAKEN
    if ringing and not ringing_allowed:
        return Claim.RINGING
    return Claim.CLAIMED


def _lock_query(shared: bool, skip_locked: bool) -> Select[int]:
    """Lock the adviser's row: shared by the calls ringing them again, or alone."""
    return (
        select(Adviser.id)
        .where(Adviser.id == bindparam("adviser_id"))
        .with_for_update(read=shared, key_share=not shared, skip_locked=skip_locked)
    )


@cache
def _check_query() -> Select[bool, bool]:
    """Whether the adviser is on a call, and whether another call is ringing them: each asked
    apart, through its own index, and answered by the first leg found, however many calls
    are ringing them at once. Built once."""
    adviser = CallLeg.adviser_id == bindparam("adviser_id")
    return select(
        exists().where(adviser, busy_leg(bindparam("busy_since"))),
        exists().where(adviser, ringing_leg(bindparam("ringing_since"), bindparam("call_id"))),
    )


_POINT = "routing_claim"
_ADVISER = "%(adviser_id)s"  # the lock's one parameter, written into it as an integer


@dataclass(frozen=True)
class _DriverStatements:
    lock: dict[tuple[bool, bool], str]  # by (shared, skip_locked): SAVEPOINT, then the lock
    check: DriverStatement
    undo: str  # back to the savepoint, and done with it


@cache
def _driver_statements() -> _DriverStatements:
    """The claim's statements for PostgreSQL, compiled once."""
    lock = {
        (shared, skip): DriverStatement.of(_lock_query(shared, skip))
        for shared in (False, True)
        for skip in (False, True)
    }
    for statement in lock.values():
        # The adviser's id is written into the text, which goes to the server as it is.
        if statement.constants or "%" in statement.sql.replace(_ADVISER, "0"):
            raise RuntimeError("the claim's lock must take the adviser as its one parameter")
    return _DriverStatements(
        lock={key: f"SAVEPOINT {_POINT}; {statement.sql}" for key, statement in lock.items()},
        check=DriverStatement.of(_check_query()),
        undo=f"ROLLBACK TO SAVEPOINT {_POINT}; RELEASE SAVEPOINT {_POINT}",
    )


def hold_for_answer(session: Session, adviser_id: int) -> None:
    """Hold the adviser while their answer is recorded, so that no routing decision rings them
    in between (PostgreSQL; SQLite lets one writer in at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Adviser.id).where(Adviser.id == adviser_id).with_for_update(key_share=True)
        )
