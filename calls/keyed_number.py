"""A number keyed in by a caller who withheld theirs: read back, then kept or asked again.

Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from calls.events import record_event
from calls.models import Call


def number_keyed(call: Call, number: str) -> None:
    """The caller keyed a usable number (E.164): held until they confirm it."""
    call.keyed_number = number


def number_refused(call: Call, tries: int) -> bool:
    """A keyed number that cannot be used: a failed try. True while tries are left of `tries`."""
    call.number_tries += 1
    return call.number_tries < tries


def number_rejected(call: Call, tries: int) -> bool:
    """The caller did not confirm the number read back: it is dropped, and counts as a failed
    try. True while tries are left of `tries`."""
    call.keyed_number = None
    return number_refused(call, tries)


def number_confirmed(session: Session, call: Call, now: datetime) -> None:
    """The caller confirmed the number read back: it is the one to call back."""
    call.callback_number = call.keyed_number
    record_event(session, call.sid, "callback-number", now, key=f"number:{call.sid}")
