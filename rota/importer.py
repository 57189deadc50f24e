"""The rota CSV: parse and check a whole file, then add or update advisers and shifts.

A file is all or nothing: every problem found is reported, each naming its line and field, and
nothing is written unless the file has none. For each adviser and date the file names, its
shifts replace the stored ones, so a shift moved in the file moves; other days stay as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.phones import uk_number
from helpline.settings import Settings
from rota.calendar import local_instant
from rota.models import Adviser, Shift
from rota.service import left_on, name_key, stop_shifts

COLUMNS = ("name", "phone", "office", "date", "start", "end", "duty_officer")
NAME_MAX = 120  # the width of Adviser.name and Adviser.name_key
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
# A full UK number that can be rung: uk_number alone also passes local-only numbers (4322) and
# too-short ones whose trunk 0 phonenumbers keeps (07700 90 -> +440770090).
_DIALLABLE = re.compile(r"\+44[1-9][0-9]{8,9}")
T = TypeVar("T")


class RotaImportError(ValueError):
    """A rota file that cannot be imported; `errors` has one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _Bad(ValueError):
    """One field's value is unusable; the message says why."""


@dataclass(frozen=True)
class RotaRow:
    """One checked line of a rota file; `phone` is E.164 and `office` a configured office key."""

    line: int
    name: str
    phone: str
    office: str
    day: date
    start: time
    end: time
    duty_officer: bool

    @property
    def key(self) -> str:
        """The adviser's name as matched (see rota.service.name_key)."""
        return name_key(self.name)


@dataclass
class ImportResult:
    """What an import changed."""

    advisers_added: int = 0
    advisers_updated: int = 0
    shifts_added: int = 0
    shifts_updated: int = 0
    shifts_removed: int = 0
    shifts_unchanged: int = 0
    shifts_cut_short: int = 0  # in progress, no longer in the file: they end now
    shifts_kept: int = 0  # already worked, no longer in the file: they stay

    def summary(self) -> str:
        """One sentence for the person who ran the import (two when nothing changed)."""
        text = (
            f"Added {_count(self.advisers_added, 'adviser')} and updated "
            f"{self.advisers_updated}; added {_count(self.shifts_added, 'shift')}, updated "
            f"{self.shifts_updated}, removed {self.shifts_removed} and left "
            f"{self.shifts_unchanged} unchanged."
        )
        if self.shifts_cut_short:
            text += f" Ended {_count(self.shifts_cut_short, 'shift')} in progress now."
        if self.shifts_kept:
            were = "was" if self.shifts_kept == 1 else "were"
            text += f" Kept {_count(self.shifts_kept, 'shift')} that {were} already worked."
        changed = (
            self.advisers_added,
            self.advisers_updated,
            self.shifts_added,
            self.shifts_updated,
            self.shifts_removed,
            self.shifts_cut_short,
        )
        return text + (" Nothing changed." if not any(changed) else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# Parsing: pure, no database.


def parse_rota(text: str, settings: Settings) -> list[RotaRow]:
    """Every row of a rota CSV, checked; raises RotaImportError listing all problems found."""
    errors: list[str] = []
    records = _records(text, errors)
    if not records:
        raise RotaImportError(errors or [f"line 1: the file is empty; expected {_header_text()}"])
    header_line, header = records[0]
    columns = _columns(header_line, header, errors)
    if columns is None:
        raise RotaImportError(errors)
    rows: list[RotaRow] = []
    seen = _Seen()
    for line, fields in records[1:]:
        if len(fields) != len(columns):
            errors.append(f"line {line}: expected {len(columns)} fields, found {len(fields)}")
            continue
        row = _row(line, dict(zip(columns, fields, strict=True)), settings, errors)
        if row is not None:
            errors.extend(seen.check(row))
            rows.append(row)
    if errors:
        raise RotaImportError(errors)
    return rows


def _header_text() -> str:
    return "a header line: " + ",".join(COLUMNS)


def _records(text: str, errors: list[str]) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with the line each starts on (a CSV error ends the reading)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            if any(cell.strip() for cell in fields):
                records.append((line, [cell.strip() for cell in fields]))
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.append(f"line {line}: not readable as CSV ({exc})")
    return records


def _columns(line: int, header: list[str], errors: list[str]) -> list[str] | None:
    """The header's column names in file order, or None (with errors) when it is unusable."""
    names = [cell.casefold() for cell in header]
    problems = []
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        errors.append(f"line {line}: {'; '.join(problems)} (expected {_header_text()})")
        return None
    return names


def _row(line: int, cells: dict[str, str], settings: Settings, errors: list[str]) -> RotaRow | None:
    """One record's fields, checked; None (with errors) when any is bad."""

    def parsed(column: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(cells[column])
        except _Bad as exc:
            errors.append(f"line {line}, {column}: {exc}")
            return None

    name = parsed("name", _name)
    phone = parsed("phone", _phone)
    office = parsed("office", lambda raw: _office(raw, settings))
    day = parsed("date", _date)
    start = parsed("start", _time)
    end = parsed("end", _time)
    duty = parsed("duty_officer", _yes_no)
    if start is not None and end is not None and end <= start:
        errors.append(
            f"line {line}, end: {end:%H:%M} is not after the start, {start:%H:%M} "
            "(a shift cannot cross midnight)"
        )
        return None
    if (
        name is None
        or phone is None
        or office is None
        or day is None
        or start is None
        or end is None
        or duty is None
    ):
        return None
    return RotaRow(line, name, phone, office, day, start, end, duty)


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise _Bad("empty; each row needs the adviser's name")
    if len(name_key(name)) > NAME_MAX:  # casefolding can lengthen a name (ß -> ss)
        raise _Bad(f"longer than {NAME_MAX} characters")
    return name


def _phone(raw: str) -> str:
    number = uk_number(raw)
    if number is None or not _DIALLABLE.fullmatch(number):
        raise _Bad(f"{raw!r} is not a UK telephone number")
    return number


def _office(raw: str, settings: Settings) -> str:
    keys = {key.casefold(): key for key in settings.offices}
    try:
        return keys[raw.casefold()]
    except KeyError:
        raise _Bad(f"no office {raw!r} (known offices: {', '.join(settings.offices)})") from None


def _date(raw: str) -> date:
    try:
        if _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise _Bad(f"{raw!r} is not a date like 2026-11-30")


def _time(raw: str) -> time:
    match = _TIME.fullmatch(raw)
    try:
        if match:
            return time(int(match[1]), int(match[2]))
    except ValueError:
        pass
    raise _Bad(f"{raw!r} is not a time like 09:00")


def _yes_no(raw: str) -> bool:
    answer = raw.casefold()
    if answer not in ("yes", "no"):
        raise _Bad(f"{raw!r} is not yes or no")
    return answer == "yes"


@dataclass
class _Seen:
    """The rows of a file so far, for the checks that span rows."""

    duty: dict[date, RotaRow] = field(default_factory=dict)
    phones: dict[str, RotaRow] = field(default_factory=dict)
    shifts: dict[tuple[str, date], list[RotaRow]] = field(default_factory=dict)

    def check(self, row: RotaRow) -> list[str]:
        """Problems between `row` and the rows before it; then remember it."""
        errors = []
        first = self.phones.setdefault(row.key, row)
        if first.phone != row.phone:
            errors.append(
                f"line {row.line}, phone: {row.phone} differs from {first.name}'s "
                f"{first.phone} on line {first.line}"
            )
        if row.duty_officer:
            duty = self.duty.setdefault(row.day, row)
            if duty is not row:
                errors.append(
                    f"line {row.line}, duty_officer: {row.day} already has a duty officer "
                    f"on line {duty.line}; only one shift a day can say yes"
                )
        same_day = self.shifts.setdefault((row.key, row.day), [])
        for other in same_day:
            if row.start < other.end and other.start < row.end:
                errors.append(
                    f"line {row.line}, start: {row.name}'s shift {_span(row.start, row.end)} "
                    f"overlaps their shift {_span(other.start, other.end)} on line {other.line}"
                )
        same_day.append(row)
        return errors


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


# Importing: the database.


def import_rota(session: Session, settings: Settings, text: str, now: datetime) -> ImportResult:
    """Add or update the advisers and shifts of a rota CSV; flushes, never commits.

    For each adviser and date the file names, the file's shifts replace the stored ones: a
    stored shift starting at the same time is updated, the others are removed.
    """
    rows = parse_rota(text, settings)
    result = ImportResult()
    if not rows:
        return result
    existing = session.execute(
        select(Shift, Adviser)
        .join(Adviser, Shift.adviser_id == Adviser.id)
        .where(Shift.day >= min(r.day for r in rows), Shift.day <= max(r.day for r in rows))
    ).all()
    shifts = [(shift, adviser) for shift, adviser in existing]
    leavers = session.scalars(
        select(Adviser).where(
            Adviser.name_key.in_({row.key for row in rows}), Adviser.left_at.is_not(None)
        )
    ).all()
    errors = _database_errors(rows, shifts, {a.name_key: a for a in leavers}, settings)
    if errors:
        raise RotaImportError(errors)
    advisers = _upsert_advisers(session, rows, now, result)
    named = {(row.key, row.day) for row in rows}
    in_file = {(row.key, row.day, row.start) for row in rows}
    slots: dict[tuple[str, date, time], Shift] = {}
    replaced: list[Shift] = []
    for shift, adviser in shifts:
        slot = (adviser.name_key, shift.day, shift.start)
        if slot in in_file:
            slots[slot] = shift
        elif slot[:2] in named:
            replaced.append(shift)
    # As `rota remove` does: a shift worked stays, one in progress ends now.
    stopped = stop_shifts(session, settings, replaced, now)
    result.shifts_removed += stopped.removed
    result.shifts_cut_short += stopped.cut_short
    result.shifts_kept += stopped.kept
    for row in rows:
        stored = slots.get((row.key, row.day, row.start))
        if stored is None:
            added = Shift(adviser_id=advisers[row.key].id, day=row.day, start=row.start)
            _apply(added, row, settings)
            session.add(added)
            result.shifts_added += 1
        elif _apply(stored, row, settings):
            result.shifts_updated += 1
        else:
            result.shifts_unchanged += 1
    session.flush()
    return result


def _database_errors(
    rows: list[RotaRow],
    shifts: list[tuple[Shift, Adviser]],
    leavers: dict[str, Adviser],
    settings: Settings,
) -> list[str]:
    """Problems between the file and what is already held: advisers who have left, and shifts.

    A leaver's rows before the day they left may stay in a re-exported file; a row on or after
    it would bring them back without anyone meaning to. Only a duty officer can clash with a
    stored shift: an adviser's own stored shifts on a date the file names for them are
    replaced, so they cannot overlap the file's.
    """
    named = {(row.key, row.day) for row in rows}
    kept_duty: dict[date, tuple[Shift, Adviser]] = {
        shift.day: (shift, adviser)
        for shift, adviser in shifts
        if shift.duty_officer and (adviser.name_key, shift.day) not in named
    }
    errors = []
    for row in rows:
        leaver = leavers.get(row.key)
        left = left_on(settings, leaver) if leaver is not None else None
        if leaver is not None and left is not None and row.day >= left:
            errors.append(
                f"line {row.line}, name: {leaver.name} left on {left}; take their rows from "
                f"{left} on out of the file, or bring them back first with: "
                f'helpline advisers return "{leaver.name}"'
            )
        if row.duty_officer and row.day in kept_duty:
            shift, adviser = kept_duty[row.day]
            errors.append(
                f"line {row.line}, duty_officer: {adviser.name} is already duty officer"
                f" on {row.day} ({_span(shift.start, shift.end)}); to hand over, list"
                " that shift in the file with duty_officer no"
            )
    return errors


def _upsert_advisers(
    session: Session, rows: list[RotaRow], now: datetime, result: ImportResult
) -> dict[str, Adviser]:
    """The file's advisers by name key, added or updated (name and phone from their first row)."""
    firsts: dict[str, RotaRow] = {}
    for row in rows:
        firsts.setdefault(row.key, row)
    found = session.scalars(select(Adviser).where(Adviser.name_key.in_(firsts))).all()
    advisers = {adviser.name_key: adviser for adviser in found}
    for key, row in firsts.items():
        adviser = advisers.get(key)
        if adviser is None:
            adviser = Adviser(
                name=row.name, name_key=key, phone=row.phone, created_at=now, updated_at=now
            )
            session.add(adviser)
            advisers[key] = adviser
            result.advisers_added += 1
        elif (adviser.name, adviser.phone) != (row.name, row.phone):
            adviser.name, adviser.phone, adviser.updated_at = row.name, row.phone, now
            result.advisers_updated += 1
    return advisers


def _apply(shift: Shift, row: RotaRow, settings: Settings) -> bool:
    """Set the shift's times, office and duty from the row; whether anything changed."""
    tz = settings.timezone
    wanted = (
        row.end,
        row.office,
        row.duty_officer,
        local_instant(row.day, row.start, tz),
        local_instant(row.day, row.end, tz),
    )
    current = (shift.end, shift.office, shift.duty_officer, shift.starts_at, shift.ends_at)
    if wanted == current:
        return False
    shift.end, shift.office, shift.duty_officer, shift.starts_at, shift.ends_at = wanted
    return True
