"""Who may be rung now: advisers on shift, not away, not on a helpline call, fairest first. Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OnShift:
    """An adviser working now, for `office`'s team, until `ends_at`."""

    adviser_id: int
    name: str
    phone: str
    office: str
    ends_at: datetime
    away: bool = False  # set away by the adviser: on shift, but not to be rung or given work


@dataclass(frozen=True)
class Candidate:
    """An adviser who may be rung; `ringing_elsewhere` when already being rung for another call."""

    adviser: OnShift
    ringing_elsewhere: bool


def candidates(
    on_shift: Sequence[OnShift],
    *,
    busy: Collection[int],
    ringing_elsewhere: Collection[int],
    tried: Collection[int],
    last_rung: Mapping[int, datetime],
) -> list[Candidate]:
    """Advisers on shift who are not away, not on a call and not yet tried for this call.

    Ordered so that advisers not being rung elsewhere come first, and among those the one rung
    longest ago (or never) first, which spreads calls fairly across a team.
    """
    seen: set[int] = set()
    result = []
    for adviser in on_shift:
        if adviser.away or adviser.adviser_id in busy or adviser.adviser_id in tried:
            continue
        if adviser.adviser_id in seen:
            continue
        seen.add(adviser.adviser_id)
        result.append(Candidate(adviser, adviser.adviser_id in ringing_elsewhere))

    def order(c: Candidate) -> tuple[bool, bool, datetime | None, str]:
        rung = last_rung.get(c.adviser.adviser_id)
        return (c.ringing_elsewhere, rung is not None, rung, c.adviser.name.casefold())

    return sorted(result, key=order)
