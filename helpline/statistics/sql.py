"""Two SQL expressions the statistics need that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, Float, Integer, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


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


def week_hour(at: Any, zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement[int]:
    """The local hour of the week (Monday 00:00 = 0 ... Sunday 23:00 = 167) of a UTC timestamp
    between `start` and `end`, in whole-number SQL both databases run: the zone's offset in
    each stretch between its clock changes is added to the seconds since 1970 before the
    hours are counted, so it is exact across clock changes and cheap for a million rows."""
    seconds = whole_seconds(at)
    stretches = offsets(zone, start, end)
    offset: ColumnElement[int] = literal(stretches[-1][1])
    if len(stretches) > 1:
        offset = case(
            *((at < until, shift) for until, shift in stretches[:-1]),
            else_=stretches[-1][1],
        )
    # 1 January 1970 was a Thursday: hour 0 of the epoch is hour 72 of its week.
    return ((seconds + offset) // 3600 + 72) % 168


def offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(until, offset in seconds) for each stretch of `zone`'s clock between `start` and `end`;
    the last stretch's `until` is `end`."""
    stretches: list[tuple[datetime, int]] = []
    at, step = start, timedelta(hours=1)
    current = _offset(zone, at)
    while at < end:
        following = _offset(zone, at + step)
        if following != current:
            # Find the change to the second, in at most 12 halvings of the hour.
            low, high = at, at + step
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if _offset(zone, middle) == current else (low, middle)
            stretches.append((high, current))
            current = following
        at += step
    stretches.append((end, current))
    return stretches


def _offset(zone: ZoneInfo, at: datetime) -> int:
    delta = at.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta else 0


class whole_seconds(FunctionElement[int]):
    """Whole seconds since 1970 of a UTC timestamp, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "whole_seconds"


@compiles(whole_seconds, "sqlite")
def _whole_seconds_sqlite(element: whole_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {_arg(element, compiler, **kw)}) AS INTEGER)"


@compiles(whole_seconds, "postgresql")
def _whole_seconds_postgresql(element: whole_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(date_part('epoch', {_arg(element, compiler, **kw)})) AS BIGINT)"


class local_day(FunctionElement[date]):
    """The local date of a UTC timestamp on PostgreSQL; the UTC date on SQLite, which knows
    no zones (good enough where it only narrows a search that is then checked exactly)."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at = next(iter(element.clauses))
    return f"date({compiler.process(at, **kw)})"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({at} AT TIME ZONE {zone}) AS DATE)"


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
