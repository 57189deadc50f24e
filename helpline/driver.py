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
from sqlalchemy import Connection, Table, bindparam, inspect, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstanceState, Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]

_DIALECT: Dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class DriverStatement:
    """One statement, compiled once: run it with `run`."""

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
            cursor = _cursor(connection).execute(self.sql, self._values(values))
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

    def mappings(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows as `run` gives them, each by column name."""
        return [dict(zip(self.keys, row, strict=True)) for row in self.run(connection, values)]

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


def run_script(connection: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Statements without parameters, sent together in one round trip (PostgreSQL's simple
    protocol), on `connection`'s psycopg connection: the rows of the last, as the server sent
    them. Only for text the code writes itself (commands, its own integers), never for a value
    from outside, and not prepared: kept for a command that would otherwise cost a round trip."""
    try:
        cursor = _cursor(connection).execute(sql)
        while cursor.nextset():
            pass
        return cursor.fetchall() if cursor.description else []
    except psycopg.Error as exc:
        raise _as_sqlalchemy(connection, sql, exc) from exc


def run_commands(connection: Connection, sql: str) -> None:
    """Commands without parameters or rows (a ROLLBACK TO SAVEPOINT, say), sent together in one
    round trip straight to libpq, past psycopg's cursor: psycopg forgets every statement it
    has prepared on the connection whenever it sees a command called ROLLBACK (and asks the
    server to forget them too), so that every statement here would be planned afresh after
    it. Only for text the code writes itself."""
    driver = _driver(connection)
    try:
        result = driver.pgconn.exec_(sql.encode())
        if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
            if driver.pgconn.status == psycopg.pq.ConnStatus.BAD:  # as psycopg says it
                raise psycopg.OperationalError("the connection to the server was lost")
            raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    except psycopg.Error as exc:
        raise _as_sqlalchemy(connection, sql, exc) from exc


@cache
def compiled_once(
    statement: ClauseElement, columns: tuple[str, ...] | None = None
) -> DriverStatement:
    """`DriverStatement.of`, kept for each statement (built once by its caller) and columns."""
    return DriverStatement.of(statement, columns)


def write_changes(session: Session) -> None:
    """Write the session's changes to rows it read, one UPDATE each through psycopg, and leave
    those objects in the session as if just read, so that the unit of work has nothing left to
    do for them: nearly every webhook changes a call or a leg, and the unit of work's flush of
    them cost several times the database's work. PostgreSQL only (see `helpline.db.flush`).

    All or nothing, and only what the unit of work would write the same way: plain values set
    on columns of rows read whole, of mappings with one table, one key, no version counter and
    nothing computed on update, while nothing new or deleted waits to be written first and no
    savepoint is open (its rollback must find what it undoes). If any changed object needs
    more, every one is left to the unit of work, so that it writes them all in its own order;
    so is a session with more than a webhook's few changed objects (a job's, say), whose like
    updates the unit of work batches. These are written in the unit of work's order too,
    tables that others refer to first and then by key, so that two transactions lock rows in
    the same order; and only once every row is written are the objects taken as read."""
    if session.new or session.deleted or session.in_nested_transaction():
        return
    dirty = session.dirty
    if not dirty or len(dirty) > WRITTEN_AT_MOST:
        return
    found = []
    for state in map(inspect, dirty):
        changes = _plain_changes(state)
        if changes is None:
            return
        found.append((state, changes))
    connection = session.connection()
    found.sort(key=lambda item: (_rank(item[0].mapper.local_table), item[0].identity))
    for state, changes in found:
        if changes:
            table = cast(Table, state.mapper.local_table)
            statement = compiled_once(_update_by_key(table, tuple(sorted(changes))))
            key = state.identity[0] if state.identity else None
            if len(statement.run(connection, {**changes, _KEY: key})) != 1:
                raise StaleDataError(f"a row of {table.name} was not there to update")
    for state, _ in found:
        obj = state.obj()
        session.expunge(obj)
        make_transient(obj)  # then its history is taken as what was read
        make_transient_to_detached(obj)
        session.add(obj)


WRITTEN_AT_MOST = 8  # changed objects: more are left to the unit of work
_KEY = "row_key_"  # the bound primary key of `_update_by_key`, named apart from any column


def _plain_changes(state: InstanceState[Any]) -> dict[str, Any] | None:
    """The object's changed columns by name, or None if the unit of work must write it."""
    mapper = state.mapper
    if not state.persistent or state.expired_attributes or not _plain_mapping(mapper):
        return None
    unloaded = state.unloaded
    attributes = state.attrs
    if any(attributes[r.key].history.has_changes() for r in mapper.relationships):
        return None
    changes = {}
    for prop in mapper.column_attrs:
        if prop.key in unloaded:
            return None
        history = attributes[prop.key].history
        if not history.added:
            if history.deleted:
                return None  # deleted from the object (del obj.x): the unit of work refuses it
            continue
        value = history.added[0]
        column = prop.columns[0]
        if column.primary_key or isinstance(value, ClauseElement):
            return None  # a new key, or a value computed by the database
        changes[column.key] = value
    return changes


@cache
def _plain_mapping(mapper: Any) -> bool:
    """Whether rows of the mapping can be written by `write_changes`: one table, one key, no
    version counter, each attribute one column of its table, and no column given a value on
    update (which the unit of work would write, or read back, with any change)."""
    table = mapper.local_table
    return (
        len(mapper.tables) == 1
        and len(mapper.primary_key) == 1
        and mapper.version_id_col is None
        and all(
            len(prop.columns) == 1 and prop.columns[0].table is table
            for prop in mapper.column_attrs
        )
        and all(c.onupdate is None and c.server_onupdate is None for c in table.columns)
    )


@cache
def _rank(table: Any) -> int:
    """Where the unit of work puts `table`'s rows: tables that others refer to first."""
    return list(table.metadata.sorted_tables).index(table)


@cache
def _update_by_key(table: Table, columns: tuple[str, ...]) -> ReturningUpdate[Any]:
    """An UPDATE of `columns` of the row with the bound key, returning its key. Built once."""
    (key,) = table.primary_key.columns
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    return update(table).where(key == bindparam(_KEY)).values(values).returning(key)


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
        # As SQLAlchemy does with a connection the server dropped: the pool's other connections
        # made before now are replaced when next used (a restart ended them all), then this one.
        connection.engine.pool._invalidate(connection.connection, exc)
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


def _cursor(connection: Connection) -> Any:
    """A cursor of the connection's psycopg connection, kept with it (in the pool's record of
    the connection) and used again: making one cost nearly as much as running a statement."""
    driver = _driver(connection)
    info = connection.connection.info
    kept = info.get("driver_cursor")
    if kept is None or kept.closed or kept.connection is not driver:
        kept = info["driver_cursor"] = driver.cursor()
    return kept
