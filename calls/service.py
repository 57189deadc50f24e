"""The call log over the database: calls, their events and outcomes. Services flush; the
caller commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import ReturningInsert

from calls.events import Events, record_event
from calls.models import Call, CallEvent, CallLeg
from calls.routing import call_outcome
from calls.states import OPEN_LEG_STATES, TERMINAL, LegState, TwilioCallStatus
from helpline.db import Base, flushed, inserted
from helpline.driver import compiled_once
from helpline.settings import Office, Settings


@cache
def _new_row_insert(dialect: str, model: type[Base], unique: str | None) -> ReturningInsert[Any]:
    """An INSERT of one `model` row returning every column, on the table rather than through
    the unit of work (see `helpline.db.inserted`); with `unique`, a row whose value there is a
    repeat is skipped and nothing returned. Built once."""
    table = cast(Table, model.__table__)
    if unique is None:
        return insert(table).returning(*table.c)
    upsert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return upsert.on_conflict_do_nothing(index_elements=[unique]).returning(*table.c)


def _inserted_row(
    session: Session, statement: ReturningInsert[Any], values: dict[str, Any]
) -> Mapping[Any, Any] | None:
    """The row an INSERT ... RETURNING gave, by column name; None if it inserted nothing. On
    PostgreSQL straight through psycopg (see `helpline.driver`): every call inserts these."""
    connection = flushed(session)
    if connection.dialect.name != "postgresql":
        row = connection.execute(statement, values).first()
        return None if row is None else row._mapping
    rows = compiled_once(statement, tuple(sorted(values))).mappings(connection, values)
    return rows[0] if rows else None


def new_leg(session: Session, call: Call, values: dict[str, Any]) -> CallLeg:
    """Insert an adviser's leg of the call, in one statement, and add it to the call's legs."""
    dialect = session.get_bind().dialect.name
    before = list(call.legs)  # read first: read after the insert, they would include it
    row = _inserted_row(session, _new_row_insert(dialect, CallLeg, None), values)
    if row is None:
        raise LookupError("a leg's insert returned nothing")
    leg = inserted(session, CallLeg, row)
    set_committed_value(leg, "call", call)
    set_committed_value(call, "legs", [*before, leg])
    return leg


def find_call(session: Session, sid: str) -> Call | None:
    """The call with Twilio's CallSid `sid`, locked until the transaction ends and read afresh.

    Every webhook that changes a call finds it here (or through its leg, `calls.ringing.lock_leg`),
    so two webhooks about one call on two web workers take turns, and the second reads what the
    first wrote instead of writing back an outcome from what it read before. SQLite already
    lets one writer in at a time.

    On PostgreSQL the row is read through psycopg (nearly every webhook asks), unless the
    session already holds the call: then the ORM refreshes that object.
    """
    connection = flushed(session)
    if connection.dialect.name == "postgresql":
        rows = compiled_once(_find_call_row()).mappings(connection, {"sid": sid})
        if not rows:
            return None
        if session.identity_map.get(identity_key(Call, rows[0]["id"])) is None:
            return inserted(session, Call, rows[0])
    return session.scalar(_find_call_query(), {"sid": sid})


def read_legs(session: Session, call: Call) -> None:
    """Read the call's legs now, when the session has not: on PostgreSQL in one statement
    through psycopg, as reading `call.legs` would have (a leg the session holds already is kept
    as it is); elsewhere the ORM reads them when first asked."""
    if "legs" not in inspect(call).unloaded:
        return
    connection = flushed(session)  # as the ORM's own read would, with what the session changed
    if connection.dialect.name != "postgresql":
        return
    legs = []
    for row in compiled_once(_legs_query()).mappings(connection, {"call_id": call.id}):
        leg = session.identity_map.get(identity_key(CallLeg, row["id"]))
        if leg is None:
            leg = inserted(session, CallLeg, row)
            set_committed_value(leg, "call", call)
        legs.append(leg)
    set_committed_value(call, "legs", legs)


@cache
def _legs_query() -> Select[Any]:
    """A call's legs, in the order of `Call.legs`. Built once."""
    table = cast(Table, CallLeg.__table__)
    return select(*table.c).where(table.c.call_id == bindparam("call_id")).order_by(table.c.id)


@cache
def _find_call_row() -> Select[Any]:
    """The call's row, locked as `_find_call_query` locks it. Built once."""
    table = cast(Table, Call.__table__)
    return select(*table.c).where(table.c.sid == bindparam("sid")).with_for_update(key_share=True)


@cache
def _find_call_query() -> Select[Call]:
    """Built once: most webhooks ask it."""
    return (
        select(Call)
        .where(Call.sid == bindparam("sid"))
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: rows that refer to it may be added
        .execution_options(populate_existing=True)
    )


def office_for(settings: Settings, to_number: str) -> tuple[Office, bool]:
    """The office a number belongs to, and whether it was known (else the first office)."""
    office = settings.office_for_number(to_number)
    return (office, True) if office else (settings.first_office, False)


def local_start(settings: Settings, at: datetime) -> dict[str, Any]:
    """The call's local start date and hour of the week (Monday 00:00 = 0) on the service's
    clock, as the columns the statistics count by."""
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(settings.timezone)
    return {"local_date": local.date(), "week_hour": local.weekday() * 24 + local.hour}


def record_incoming(
    session: Session,
    settings: Settings,
    sid: str,
    caller: str | None,
    to_number: str,
    now: datetime,
    events: Events | None = None,
) -> tuple[Call, bool]:
    """The call for `sid`, created on first sight; also says whether the number was known. Its
    'incoming' event is added to `events` when given (for the caller to write), else kept."""
    office, known = office_for(settings, to_number)
    values = {
        "sid": sid,
        "from_number": caller,
        "to_number": to_number,
        "office": office.key,
        "status": TwilioCallStatus.RINGING,
        "started_at": now,
        **local_start(settings, now),
    }
    # A new call is the usual case: insert it, and find the call only when it exists already
    # (Twilio retrying, or another webhook about it a moment ago: take turns with it). One
    # statement, with no savepoint: a repeat is skipped by the CallSid's unique index.
    dialect = session.get_bind().dialect.name
    row = _inserted_row(session, _new_row_insert(dialect, Call, "sid"), values)
    if row is None:
        found = find_call(session, sid)
        if found is None:
            raise LookupError("a call that was there a moment ago has gone")
        return found, known
    call = inserted(session, Call, row)
    set_committed_value(call, "legs", [])  # a new call has none: no need to ask
    kept = Events() if events is None else events
    kept.add(sid, "incoming", now, {"office": office.key, "known": known}, key=f"incoming:{sid}")
    if events is None:
        kept.write(session)
    return call, known


def entered_answer_machine(session: Session, call: Call, now: datetime) -> None:
    """The caller has reached the answer machine."""
    if call.reached_answer_machine_at is None:
        call.reached_answer_machine_at = now
        record_event(session, call.sid, "answer-machine", now, key=f"answer-machine:{call.sid}")


def _settle(call: Call) -> None:
    if call.ended_at is not None:
        call.outcome = call_outcome(
            office=call.office,
            answered_office=call.answered_office,
            message_left=call.message_left,
            reached_answer_machine=call.reached_answer_machine_at is not None,
            callback_requested=call.callback_requested_at is not None,
        )


@dataclass(frozen=True)
class StatusReport:
    """A call status callback, parsed and bounded at the edge."""

    sid: str
    status: str
    sequence: int | None = None
    duration_s: int | None = None
    parent_sid: str | None = None  # set on an adviser's leg
    caller: str | None = None  # E.164, or None when withheld or unusable
    to_number: str = ""


def record_status(
    session: Session, settings: Settings, report: StatusReport, now: datetime
) -> Call | None:
    """Apply a call status callback: the call it changed, or None when it was a repeat or is
    about an adviser's leg."""
    sid, status, seq = report.sid, report.status, report.sequence
    key = f"status:{sid}:{seq}" if seq is not None else f"status:{sid}:{status}"
    detail = {
        "status": status,
        "sequence": seq,
        "duration": report.duration_s,
        "parent": report.parent_sid,
    }
    if report.parent_sid:
        # An adviser's leg: kept as an event; its own status callback (/voice/leg-status)
        # and the dial action settle the leg.
        record_event(session, sid, "status", now, detail, key=key)
        return None
    call = find_call(session, sid)  # first, so that a repeat arriving at once waits here
    if not record_event(session, sid, "status", now, detail, key=key):
        return None
    if call is None:
        # The incoming webhook never reached us (or failed): keep the call all the same.
        call, _ = record_incoming(session, settings, sid, report.caller, report.to_number, now)
    if status in TERMINAL:
        read_legs(session, call)  # its end ends them: read at once rather than lazily
    # Reading the call's legs must not write the call first: it is written once, with every
    # change, when the session next flushes.
    with session.no_autoflush:
        if status in TERMINAL and reopen_guessed_end(call):
            record_event(session, sid, "corrected", now, {"status": status}, key=f"corrected:{sid}")
        newer = seq is None or call.last_sequence is None or seq > call.last_sequence
        if call.ended_at is not None and status not in TERMINAL:
            newer = False
        if newer:
            call.status = status
            if seq is not None:
                call.last_sequence = seq
        if status in TERMINAL:
            call_ended(call, now, report.duration_s)
        _settle(call)
    return call


def call_ended(call: Call, at: datetime, duration_s: int | None) -> None:
    """The call is over: it and any leg still open end at `at`, and its outcome is settled."""
    if call.ended_at is not None:
        return
    call.ended_at = at
    call.duration_s = duration_s
    for leg in call.legs:
        if leg.ended_at is None:
            end_leg(leg, at, LegState.CALLER_GONE)
    call.adviser_rung = bool(call.legs)
    _settle(call)


def ended_without_final_status(call: Call) -> bool:
    """Whether the service ended the call without Twilio's final status: settle-calls does so,
    as unknown, after a long silence when Twilio cannot say. Every other end comes with a
    final status (or, for a call known only from its recording, 'completed')."""
    return call.ended_at is not None and call.status not in TERMINAL


def reopen_guessed_end(call: Call) -> bool:
    """Twilio's final status has come for a call that was ended without it: undo the guess, so
    that `call_ended` ends the call, and any conversation on it ended as unknown, as Twilio
    says. Only the guess is undone: legs that really ended, the adviser who answered, a
    message left, all stay. True if there was a guess to undo."""
    if not ended_without_final_status(call):
        return False
    call.ended_at = None
    call.duration_s = None
    for leg in call.legs:
        if leg.accepted_at is not None:
            reopen_unknown_leg(leg)
    return True


def reopen_unknown_leg(leg: CallLeg) -> bool:
    """Twilio's word on the end of a leg that was settled as unknown has come after all: open
    it again as it was when settled, so that the word ends it. True if it was unknown."""
    if leg.state != LegState.UNKNOWN:
        return False
    if leg.accepted_at is not None:
        leg.state = LegState.ACCEPTED
    elif leg.picked_up_at is not None:
        leg.state = LegState.SCREENING
    else:
        leg.state = LegState.RINGING
    leg.ended_at = None
    if leg.accepted_at is not None:
        leg.call.talk_s = None
    return True


def leg_end_state(state: LegState, how: LegState) -> LegState:
    """The state a leg in `state` ends in, when it ends `how`: the state an unanswered leg
    takes ('busy', 'failed', 'no-answer', 'caller-gone'), or 'unknown' when nobody can say.

    The one rule: a leg already over (declined, say) keeps saying so; one whose end nobody
    knows is unknown; an accepted leg is completed; one still ringing or screening ends `how`.
    """
    if state not in (*OPEN_LEG_STATES, LegState.ACCEPTED):
        return state
    if how == LegState.UNKNOWN:
        return LegState.UNKNOWN
    return LegState.COMPLETED if state == LegState.ACCEPTED else how


def end_leg(leg: CallLeg, at: datetime, how: LegState) -> None:
    """End the leg at `at` (never before it rang), in the state `leg_end_state` gives it."""
    leg.ended_at = max(at, leg.started_at)
    leg.state = leg_end_state(leg.state, how)
    if leg.accepted_at is not None:
        leg.call.talk_s = (leg.ended_at - leg.accepted_at).total_seconds()


def recovered_from_recording(
    session: Session, call: Call, started: datetime, ended: datetime
) -> None:
    """A call known only from its recording: it reached the answer machine and has ended."""
    if call.reached_answer_machine_at is None:
        call.reached_answer_machine_at = started
    if call.ended_at is None:
        call.ended_at = ended
        call.status = TwilioCallStatus.COMPLETED
    record_event(session, call.sid, "recovered", ended, key=f"recovered:{call.sid}")
    _settle(call)


def callback_requested(session: Session, call: Call, now: datetime) -> None:
    """The caller chose to be called back instead of waiting."""
    if call.callback_requested_at is None:
        call.callback_requested_at = now
        record_event(session, call.sid, "callback-requested", now, key=f"requested:{call.sid}")
    _settle(call)


def message_left(session: Session, call: Call) -> None:
    """A message from this call has been recorded."""
    call.message_left = True
    _settle(call)


def latest_moment(session: Session) -> datetime | None:
    """The latest instant the call log has recorded anything at, if it has anything."""
    return session.scalar(select(func.max(CallEvent.at)))
