"""What an attempt's outcome does to a callback, and who gets open work. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from callbacks.states import OUTCOMES, AttemptOutcome, CallbackStatus


def after_outcome(outcome: str, attempts_made: int, max_attempts: int) -> CallbackStatus:
    """The callback's next status: completed, unreachable, or open again for a retry.

    `attempts_made` counts this attempt. Spoke completes; a wrong number is unreachable at
    once; a message left or no answer waits for a retry until the last attempt is used.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome '{outcome}' (use {', '.join(OUTCOMES)})")
    if outcome == AttemptOutcome.SPOKE:
        return CallbackStatus.COMPLETED
    if outcome == AttemptOutcome.WRONG_NUMBER or attempts_made >= max_attempts:
        return CallbackStatus.UNREACHABLE
    return CallbackStatus.OPEN


@dataclass(frozen=True)
class OpenWork:
    """A callback waiting for an adviser."""

    callback_id: int
    office: str
    due_at: datetime | None  # None: the office has no opening in sight, so no deadline yet


@dataclass(frozen=True)
class Worker:
    """An adviser on shift who could take callbacks, with the open work they already hold."""

    adviser_id: int
    office: str  # the team they work for in this shift
    open_count: int
    name: str = ""


def assign(
    work: Sequence[OpenWork],
    workers: Sequence[Worker],
    *,
    partners: Mapping[str, Sequence[str]],
    max_open: int,
) -> list[tuple[int, int]]:
    """Pairs (callback_id, adviser_id), most urgent callback first, those with no deadline last.

    Each callback goes to the least-loaded adviser of its own county's team; the partner team
    takes it only when its least-loaded adviser has strictly more room. Nobody is given more
    than `max_open` open callbacks; work that fits nowhere stays in the pool.
    """
    load = {w.adviser_id: w.open_count for w in workers}
    pairs: list[tuple[int, int]] = []
    for item in sorted(work, key=_urgency):
        own = _least_loaded(workers, load, {item.office}, max_open)
        other = _least_loaded(workers, load, set(partners.get(item.office, ())), max_open)
        chosen = own
        if other is not None and (own is None or load[other.adviser_id] < load[own.adviser_id]):
            chosen = other
        if chosen is None:
            continue
        load[chosen.adviser_id] += 1
        pairs.append((item.callback_id, chosen.adviser_id))
    return pairs


def _urgency(item: OpenWork) -> tuple[bool, datetime, int]:
    return (item.due_at is None, item.due_at or _NEVER, item.callback_id)


_NEVER = datetime.max.replace(tzinfo=UTC)


def _least_loaded(
    workers: Sequence[Worker], load: dict[int, int], offices: set[str], max_open: int
) -> Worker | None:
    team = [w for w in workers if w.office in offices and load[w.adviser_id] < max_open]
    if not team:
        return None
    return min(team, key=lambda w: (load[w.adviser_id], w.name.casefold(), w.adviser_id))
