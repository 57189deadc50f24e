"""What the statistics' SQL shares: running a query, and the expressions SQLite and
PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any, TypeVarTuple

from sqlalchemy import Boolean, Float, Result, Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

Columns = TypeVarTuple("Columns")


def rows_of(session: Session, query: Select[*Columns]) -> Result[*Columns]:
    """Run a query of plain columns on the session's connection: the ORM has nothing to add to
    a few thousand groups of counts, and costs a tenth of the query's time to hand them over."""
    return session.connection().execute(query)


class epoch(FunctionElement[float]):
    """Seconds since 1970 of a UTC timestamp, to the millisecond on SQLite."""

    type = Float()
    inherit_cache = True
    name = "epoch"


def _arg(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps timestamps as text; %s is whole seconds and %f seconds with milliseconds.
    # julianday() would do, but its float is 40 µs off, enough to move a call across T.
    x = _arg(element, compiler, **kw)
    return (
        f"(CAST(strftime('%s', {x}) AS INTEGER) - CAST(strftime('%S', {x}) AS INTEGER)"
        f" + CAST(strftime('%f', {x}) AS REAL))"
    )


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part gives a double; EXTRACT gives a numeric, several times slower to sum.
    return f"date_part('epoch', {_arg(element, compiler, **kw)})"


class _Span(FunctionElement[Any]):
    """Two timestamps, start and end, that PostgreSQL subtracts as an interval (cheap) and
    SQLite as seconds. `seconds` is written into the SQL, so such statements are not cached."""

    inherit_cache = False

    def __init__(self, start: Any, end: Any, seconds: int = 0) -> None:
        self.seconds = int(seconds)
        super().__init__(start, end)


class span_within(_Span):
    """True when end - start is at most `seconds`."""

    type = Boolean()
    name = "span_within"
    inherit_cache = False


class span_at_least(_Span):
    """True when end - start is at least `seconds`."""

    type = Boolean()
    name = "span_at_least"
    inherit_cache = False


class span_sum(_Span):
    """The sum over a group of end - start, in seconds; pairs with a NULL are left out."""

    type = Float()
    name = "span_sum"
    inherit_cache = False


def _pair(element: _Span, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return start, end


def _sqlite_span(element: _Span, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = element.clauses
    return compiler.process(epoch(end) - epoch(start), **kw)


@compiles(span_within, "sqlite")
def _within_sqlite(element: span_within, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({_sqlite_span(element, compiler, **kw)} <= {element.seconds})"


@compiles(span_at_least, "sqlite")
def _at_least_sqlite(element: span_at_least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({_sqlite_span(element, compiler, **kw)} >= {element.seconds})"


@compiles(span_sum, "sqlite")
def _sum_sqlite(element: span_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"sum({_sqlite_span(element, compiler, **kw)})"


@compiles(span_within, "postgresql")
def _within_postgresql(element: span_within, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _pair(element, compiler, **kw)
    return f"(({end}) - ({start}) <= interval '{element.seconds} seconds')"


@compiles(span_at_least, "postgresql")
def _at_least_postgresql(element: span_at_least, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _pair(element, compiler, **kw)
    return f"(({end}) - ({start}) >= interval '{element.seconds} seconds')"


@compiles(span_sum, "postgresql")
def _sum_postgresql(element: span_sum, compiler: SQLCompiler, **kw: Any) -> str:
    # Summing intervals and converting once is several times quicker than converting each row.
    start, end = _pair(element, compiler, **kw)
    return f"date_part('epoch', sum(({end}) - ({start})))"
