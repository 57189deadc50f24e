"""The call log's events: what happened to each call, kept for the statistics, repeats
skipped by their keys. Services flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, ReturningInsert

from calls.models import CallEvent
from helpline.db import flushed
from helpline.driver import compiled_once

EVENT = ("call_sid", "kind", "key", "at", "detail")  # the columns an event sets
EVENTS_AT_ONCE = 8  # the most events one statement writes (one statement is kept for each count)


def _event_row(
    call_sid: str, kind: str, now: datetime, detail: dict[str, Any] | None, key: str | None
) -> dict[str, Any]:
    """An event's values, by its columns (EVENT)."""
    return dict(zip(EVENT, (call_sid, kind, key, now, detail or {}), strict=True))


def record_event(
    session: Session,
    call_sid: str,
    kind: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
    key: str | None = None,
) -> bool:
    """Keep an event; False when an event with the same `key` was already kept (a repeat).

    One statement: a repeat, even one committed by another webhook a moment ago, is skipped by
    the key's unique index (a concurrent one is waited for, then skipped)."""
    values = _event_row(call_sid, kind, now, detail, key)
    connection = flushed(session)
    if connection.dialect.name == "postgresql":
        return bool(compiled_once(_event_insert("postgresql"), EVENT).run(connection, values))
    return connection.scalar(_event_insert(connection.dialect.name), values) is not None


@dataclass
class Events:
    """Events of one step, kept together in one statement by `write` and in the order they
    were added, so that the step asks once rather than once for each: for events whose callers
    need not know whether each was a repeat. Written before the step returns, they are part of
    its transaction as `record_event`'s are."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        call_sid: str,
        kind: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        """An event to keep when `write` is called (skipped then if `key` is a repeat)."""
        self.rows.append(_event_row(call_sid, kind, now, detail, key))

    def write(self, session: Session) -> None:
        """Keep the events added so far, in one statement."""
        if self.rows:
            connection = flushed(session)
            if connection.dialect.name == "postgresql":
                for start in range(0, len(self.rows), EVENTS_AT_ONCE):
                    rows = self.rows[start : start + EVENTS_AT_ONCE]
                    values = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
                    compiled_once(_events_insert(len(rows))).run(connection, values)
            else:
                connection.execute(_event_insert(connection.dialect.name), self.rows).all()
            self.rows = []


@cache
def _event_insert(dialect: str) -> ReturningInsert[int]:
    """One event into the table, skipped when its key is a repeat (a NULL key never is).

    Built once for each dialect, on the table rather than the model: events are written on
    every webhook and read only by the statistics, so they need none of the ORM's work."""
    table = cast(Table, CallEvent.__table__)
    upsert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return upsert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


@cache
def _events_insert(count: int) -> Insert:
    """`count` events into the table in one statement on PostgreSQL, each skipped when its key
    is a repeat, their values bound as `kind_0`, `kind_1`... (the columns of EVENT, numbered
    by row). Built once for each count: a step keeps one to a few events."""
    table = cast(Table, CallEvent.__table__)
    rows = [
        {name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in EVENT}
        for i in range(count)
    ]
    return postgresql.insert(table).values(rows).on_conflict_do_nothing(index_elements=["key"])
