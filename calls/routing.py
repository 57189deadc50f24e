"""Which adviser to ring next for a call, or the answer machine. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from calls.states import CallOutcome
from rota.availability import Candidate, OnShift


@dataclass(frozen=True)
class OfficeNow:
    """An office at this moment, as far as one call is concerned."""

    is_open: bool
    candidates: Sequence[Candidate] = field(default_factory=tuple)  # untried, not busy
    tried: int = 0  # advisers of this office already rung for this call


def office_sequence(rung: str, fallback: Sequence[str]) -> list[str]:
    """The rung office, then its own fallback list in order (one step, no repeats)."""
    sequence = [rung]
    for office in fallback:
        if office not in sequence:
            sequence.append(office)
    return sequence


def next_adviser(
    sequence: Sequence[str], offices: Mapping[str, OfficeNow], max_per_office: int
) -> OnShift | None:
    """The next adviser to ring, walking the offices in order; None means the answer machine.

    First pass: advisers nobody else is ringing. Second pass: advisers already being rung for
    another caller, who are rung again only when nobody else is free.
    """
    for allow_ringing_elsewhere in (False, True):
        for key in sequence:
            office = offices.get(key)
            if office is None or not office.is_open or office.tried >= max_per_office:
                continue
            for candidate in office.candidates:
                if candidate.ringing_elsewhere == allow_ringing_elsewhere:
                    return candidate.adviser
    return None


def call_outcome(
    *,
    office: str,
    answered_office: str | None,
    message_left: bool,
    reached_answer_machine: bool,
    callback_requested: bool = False,
) -> CallOutcome:
    """How an ended call turned out, in the words of the calls list."""
    if answered_office is not None:
        if answered_office == office:
            return CallOutcome.ANSWERED
        return CallOutcome.ANSWERED_BY_PARTNER
    if message_left:
        return CallOutcome.VOICEMAIL
    if callback_requested:
        return CallOutcome.CALLBACK_REQUESTED
    if reached_answer_machine:
        return CallOutcome.MISSED
    return CallOutcome.ABANDONED
