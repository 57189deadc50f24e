"""Statements compiled once for PostgreSQL and run on psycopg's own connection.

For the few statements routing runs on every call, where SQLAlchemy's work on each execution
(the execution context, the result object, each row's processing) costs more than the
database's. The statement is still written with SQLAlchemy, and its values and rows still pass
through the columns' types (a timestamp comes back in UTC, a state as its enum), so a caller
sees what SQLAlchemy would have handed it. SQLite keeps SQLAlchemy's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, cast

import psycopg
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]

_DIALECT: Dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class DriverStatement:
    """One statement, compiled once: run it with `run`, or `run_many` for a batch."""

    sql: str
    constants: dict[str, Any]  # the statement's own literal values, bound as parameters
    defaults: dict[str, Any]  # the values of an INSERT's columns that the values leave out
    binds: dict[str, Processor]  # by parameter, for those whose type converts the value
    types: tuple[TypeEngine[Any], ...]  # by column of the rows it returns
    keys: tuple[str, ...]  # the names of those columns
    returns_rows: bool
    # The columns that need converting, with their processors: found once, from the first
    # rows' description of what the server sends (one item, once found).
    results: list[tuple[tuple[int, Processor], ...]] = field(compare=False)

    @classmethod
    def of(cls, statement: ClauseElement, columns: Sequence[str] | None = None) -> DriverStatement:
        """`statement` compiled for PostgreSQL with psycopg, its lists of literal values (IN)
        written out, its bound parameters left for `run`; an INSERT sets `columns` (its
        values' keys), the others taking their defaults."""
        compiled = cast(
            SQLCompiler,
            statement.compile(
                dialect=_DIALECT, column_keys=None if columns is None else list(columns)
            ),
        )
        given = {name: None for name, bind in compiled.binds.items() if bind.required}
        expanded = compiled.construct_expanded_state(given)
        # The statement's own values are written into it, so that PostgreSQL can plan it once
        # for every run (a partial index whose condition names a state needs the state
        # written out); values of other kinds stay parameters.
        sql, constants = expanded.statement, {}
        for name, value in expanded.parameters.items():
            if name in given:
                continue
            written = _literal(value)
            if written is None:
                constants[name] = value
            else:
                sql = sql.replace(f"%({name})s", written)
        # An INSERT's columns left out take their defaults, as SQLAlchemy would give them.
        defaults = {}
        for column in compiled.insert_prefetch:
            default = column.default
            if not isinstance(default, ScalarElementColumnDefault):
                raise ValueError(f"an insert through psycopg must set {column.key}")
            defaults[column.key] = default.arg
        binds: dict[str, Processor] = {}
        for name in {*given, *defaults}:
            kind = compiled.binds[name].type.dialect_impl(_DIALECT)
            processor = kind.bind_processor(_DIALECT)
            if processor is not None:
                binds[name] = processor
        returned = list(getattr(statement, "exported_columns", ()))
        types = tuple(column.type.dialect_impl(_DIALECT) for column in returned)
        keys = tuple(str(column.key) for column in returned)
        return cls(sql, constants, defaults, binds, types, keys, bool(returned), [])

    @classmethod
    def command(cls, sql: str) -> DriverStatement:
        """A command with neither parameters nor rows (SAVEPOINT, say)."""
        return cls(sql, {}, {}, {}, (), (), False, [])

    def run(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows, on `connection`'s psycopg connection, in its transaction."""
        try:
            cursor = _driver(connection).execute(self.sql, self._values(values))
        except psycopg.Error as exc:
            raise _as_sqlalchemy(connection, self.sql, exc) from exc
        if not self.returns_rows:
            return []
        if not self.results:
            found = (
                (i, kind.result_processor(_DIALECT, column.type_code))
                for i, (kind, column) in enumerate(zip(self.types, cursor.description, strict=True))
            )
            self.results[:] = [tuple((i, process) for i, process in found if process)]
        return self._rows(cursor.fetchall())

    def run_many(self, connection: Connection, batch: Sequence[Mapping[str, Any]]) -> None:
        """The statement once for each of `batch`, in one round trip; rows are not read."""
        try:
            with _driver(connection).cursor() as cursor:
                cursor.executemany(self.sql, [self._values(values) for values in batch])
        except psycopg.Error as exc:
            raise _as_sqlalchemy(connection, self.sql, exc) from exc

    def _values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        given = {**self.defaults, **values}
        for name, processor in self.binds.items():
            if name in given:
                given[name] = processor(given[name])
        return {**self.constants, **given}

    def _rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        processed = self.results[0]
        if not processed:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for i, process in processed:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out


@cache
def compiled_once(
    statement: ClauseElement, columns: tuple[str, ...] | None = None
) -> DriverStatement:
    """`DriverStatement.of`, kept for each statement (built once by its caller) and columns."""
    return DriverStatement.of(statement, columns)


def _literal(value: object) -> str | None:
    """`value` as SQL for psycopg's query text, or None for a value kept as a parameter. Only
    what the code itself names is written out: a member of one of its enums (a state, say), a
    boolean, an integer; any other text stays a bound parameter, whatever its origin."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"({value})"
    if isinstance(value, StrEnum):
        text = value.value
        if not all(c.isalnum() or c in "-_ " for c in text):
            return None
        return f"'{text}'"
    return None


def _as_sqlalchemy(connection: Connection, sql: str, exc: psycopg.Error) -> DBAPIError:
    """The error SQLAlchemy would have raised (an OperationalError for a dropped connection,
    say, which the logs call 'database unavailable'), its parameters hidden; a connection the
    server dropped is invalidated, so that the pool replaces it."""
    dialect = connection.dialect
    dropped = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)  # type: ignore[arg-type]
    if dropped:
        connection.invalidate(exc)
    error = DBAPIError.instance(
        sql,
        None,
        exc,
        psycopg.Error,
        hide_parameters=True,
        connection_invalidated=dropped,
        dialect=dialect,
    )
    return cast(DBAPIError, error)


def _driver(connection: Connection) -> Any:
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has been closed")
    return driver
