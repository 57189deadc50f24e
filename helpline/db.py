"""The database: declarative base, engine, sessions and the column types every model shares."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.types import TypeDecorator

from helpline.driver import write_changes

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always handed back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A StrEnum kept as its value in a plain VARCHAR(`length`), with neither a CHECK nor a
    database enum type, and handed back as its member; a word it does not know is refused."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    """The base every model of every domain derives from."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common postgres:// forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Limits:
    """How many connections a process keeps, and how long a connection may keep its process
    waiting (for the waits, 0 means no limit)."""

    pool_size: int = 5  # connections kept open
    max_overflow: int = 10  # more at busy moments, closed when returned
    connect_timeout_s: int = 0  # PostgreSQL: per address tried (libpq counts whole seconds)
    pool_timeout_s: int = 30  # waiting for a free connection of the pool
    statement_timeout_ms: int = 0  # PostgreSQL
    lock_timeout_ms: int = 0  # PostgreSQL
    idle_in_transaction_timeout_ms: int = 0  # PostgreSQL
    sqlite_busy_timeout_ms: int = 30_000  # SQLite: waiting for another writer
    # PostgreSQL, on the client's socket (libpq): a network that goes silent after connecting.
    tcp_user_timeout_ms: int = 0  # sent data left unacknowledged this long ends the connection
    keepalives_idle_s: int = 0  # an idle connection is probed after this long...
    keepalives_interval_s: int = 0  # ...and then this often
    keepalives_count: int = 0  # probes lost before it is dropped (Linux: the user timeout rules)


def make_engine(url: str, limits: Limits | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` whose connections wait no longer than `limits` say; SQLite files
    get their folder and foreign keys switched on."""
    limits = limits or Limits()
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)  # bound values can be phone numbers or notes
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_timeout", limits.pool_timeout_s)  # not a pool of one
            kwargs.setdefault("pool_size", limits.pool_size)
            kwargs.setdefault("max_overflow", limits.max_overflow)
        kwargs.setdefault("connect_args", {"timeout": limits.sqlite_busy_timeout_ms / 1000})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin, so that
            # SAVEPOINTs and BEGIN IMMEDIATE behave as they do on PostgreSQL.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(limits.sqlite_busy_timeout_ms)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    postgresql = parsed.get_backend_name() == "postgresql"
    kwargs.setdefault("pool_pre_ping", not postgresql)  # PostgreSQL: `_ping_when_idle`
    kwargs.setdefault("pool_timeout", limits.pool_timeout_s)
    kwargs.setdefault("pool_size", limits.pool_size)
    kwargs.setdefault("max_overflow", limits.max_overflow)
    if parsed.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.pop("connect_args", {}))
        for name, value in _postgresql_socket_args(limits).items():
            connect_args.setdefault(name, value)
        kwargs["connect_args"] = connect_args
    engine = create_engine(url, **kwargs)
    if postgresql:
        _limit_postgresql_sessions(engine, limits)
        if not kwargs["pool_pre_ping"]:
            _ping_when_idle(engine, PING_AFTER_IDLE_S)
    return engine


# A pooled connection unused for this long is pinged before it is handed out, so that one the
# server or the network dropped meanwhile (a restart in the night, a firewall's idle timeout) is
# replaced before a webhook uses it. One used a moment ago is not pinged: under load that saves
# a round trip on every request. A connection that died within the last second fails the one
# request that uses it next (its caller hears the fallback) and the pool then replaces every
# connection it had, as a failed ping would have.
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine, after_s: float) -> None:
    """Ping a connection on checkout when it has been back in the pool `after_s` or longer."""

    @event.listens_for(engine, "connect")
    def _new(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop("returned_at", None)  # fresh: nothing to ping

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < after_s:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # As SQLAlchemy's own ping: this connection and every older one are replaced.
                raise InvalidatePoolError("the connection had been dropped") from exc
            raise


def _postgresql_socket_args(limits: Limits) -> dict[str, int]:
    """libpq's own limits on the connection's socket. The server's timeouts only bound what
    reaches the server: a connection whose network goes silent after connecting (a proxy or
    NAT that drops its packets) would otherwise keep a query, or the pool's ping, waiting
    for as long as the kernel retransmits, many minutes, holding a thread and a connection."""
    args = {}
    if limits.connect_timeout_s:
        # libpq's minimum is 2 s; a host with several addresses may take this long for each.
        args["connect_timeout"] = max(2, limits.connect_timeout_s)
    if limits.tcp_user_timeout_ms:
        args["tcp_user_timeout"] = limits.tcp_user_timeout_ms
    if limits.keepalives_idle_s:
        args["keepalives"] = 1
        args["keepalives_idle"] = limits.keepalives_idle_s
        if limits.keepalives_interval_s:
            args["keepalives_interval"] = limits.keepalives_interval_s
        if limits.keepalives_count:
            args["keepalives_count"] = limits.keepalives_count
    return args


def _limit_postgresql_sessions(engine: Engine, limits: Limits) -> None:
    """Set the server-side waits on each new connection, once, for the whole session."""
    values = {
        "statement_timeout": limits.statement_timeout_ms,
        "lock_timeout": limits.lock_timeout_ms,
        "idle_in_transaction_session_timeout": limits.idle_in_transaction_timeout_ms,
    }

    @event.listens_for(engine, "connect")
    def _set_waits(dbapi_connection: Any, _record: Any) -> None:
        # set_config rather than SET: one round trip, and the values are bound parameters.
        # Committed, so that the first transaction's rollback cannot undo them.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, false)" for _ in values),
                [item for name, ms in values.items() for item in (name, f"{int(ms)}ms")],
            )
        dbapi_connection.commit()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep their objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


M = TypeVar("M", bound=Base)


def inserted(session: Session, model: type[M], row: Mapping[Any, Any]) -> M:
    """The object for a row just inserted (or read) with a Core statement that returned every
    column: in the session as if it had been read, so that no unit of work writes it again and
    reading its columns asks nothing. For the few rows the webhooks insert or read on every
    call; not for a row the session already holds. Not for a row inserted inside a savepoint
    that may roll back: the object would stay in the session without its row (the claim's
    savepoint, `calls.claim`, rolls back only what its failed claim did, before any insert).

    The object is made as SQLAlchemy's loader makes one, its values put straight into its
    state: through the constructor, each value set was an event, and this ran on every
    webhook (a third of a millisecond a call)."""
    if not _column_names(model) >= row.keys():
        raise ValueError(f"not every value given is a column of {model.__name__}")
    obj: M = model.__mapper__.class_manager.new_instance()
    inspect(obj).dict.update(row)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@cache
def _column_names(model: type[Base]) -> frozenset[str]:
    return frozenset(model.__mapper__.column_attrs.keys())


def flush(session: Session) -> None:
    """Write every change the session holds: on PostgreSQL, plain changes to rows it read
    through psycopg (`helpline.driver.write_changes`), and the rest through the unit of work."""
    if session.get_bind().dialect.name == "postgresql":
        write_changes(session)
    session.flush()


def flushed(session: Session) -> Connection:
    """The session's connection, with every change the session holds written first (unless
    the session is in a `no_autoflush` block): for the statements on the webhooks' path, which
    then skip the ORM's work on each execution and row while seeing what the session changed,
    as its own queries would."""
    if session.autoflush:
        flush(session)
    return session.connection()
