"""Two SQL expressions the statistics need that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class epoch(FunctionElement[float]):
    """Seconds since 1970 of a UTC timestamp, to the millisecond on SQLite."""

    type = Float()
    inherit_cache = True
    name = "epoch"


class hour_number(FunctionElement[int]):
    """Whole hours since 1970 of a UTC timestamp: the hour a moment falls in, exactly."""

    type = Integer()
    inherit_cache = True
    name = "hour_number"


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
    return f"CAST(EXTRACT(EPOCH FROM {_arg(element, compiler, **kw)}) AS DOUBLE PRECISION)"


@compiles(hour_number, "sqlite")
def _hour_sqlite(element: hour_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST(strftime('%s', {_arg(element, compiler, **kw)}) AS INTEGER) / 3600)"


@compiles(hour_number, "postgresql")
def _hour_postgresql(element: hour_number, compiler: SQLCompiler, **kw: Any) -> str:
    x = _arg(element, compiler, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {x}) / 3600) AS INTEGER)"


def seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """`end - start` in seconds."""
    return epoch(end) - epoch(start)
