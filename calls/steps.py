"""The steps of a live call, one service each for the voice webhooks: a call comes in, the next
adviser is rung, an adviser's leg has ended. Services flush; the caller commits."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from calls import claim, ringing, service
from calls.events import Events
from calls.models import Call
from calls.states import TERMINAL, LegState
from helpline.settings import Settings

BusyElsewhere = claim.BusyElsewhere


@dataclass(frozen=True)
class Step:
    """What the caller hears next: `ring` an adviser, or (None) the answer machine.

    `before` is the office of the adviser rung last for this call, None before the first ring;
    `known` says whether the number the caller dialled belongs to an office."""

    call: Call
    ring: ringing.Ring | None
    before: str | None
    known: bool = True


def next_ring(
    session: Session,
    settings: Settings,
    call: Call,
    now: datetime,
    busy_elsewhere: BusyElsewhere,
    events: Events | None = None,
) -> Step:
    """Ring the next free adviser for the call, or choose the answer machine.

    Legs put in an answer Twilio never acted on (it retried, or a key was pressed first) never
    rang, so they are cancelled first. `busy_elsewhere` names advisers busy outside the call
    log (making a call back, say); `events` are the step's events so far, kept with the
    leg's."""
    ringing.cancel_unrung_legs(session, call, now)
    legs = [leg for leg in call.legs if leg.state != LegState.CANCELLED]
    ring = ringing.ring_next(session, settings, call, now, busy_elsewhere, events)
    return Step(call, ring, legs[-1].office if legs else None)


def incoming_call(
    session: Session,
    settings: Settings,
    sid: str,
    caller: str | None,
    to_number: str,
    now: datetime,
    busy_elsewhere: BusyElsewhere,
) -> Step:
    """A call comes in (or Twilio repeats its first request): record it, then ring the first
    free adviser or choose the answer machine."""
    # The call's event is kept with its first leg's, in one statement.
    events = Events()
    call, known = service.record_incoming(session, settings, sid, caller, to_number, now, events)
    step = next_ring(session, settings, call, now, busy_elsewhere, events)
    return Step(step.call, step.ring, step.before, known)


class Over(enum.Enum):
    """Why nobody else is rung after an adviser's leg ended."""

    HELPED = "helped"  # the adviser had accepted: the conversation is over
    CALLER_GONE = "caller-gone"  # the caller hung up; Twilio ignores any answer


def leg_ended(
    session: Session,
    settings: Settings,
    leg_id: int,
    dial: tuple[str, str | None, str],
    now: datetime,
    busy_elsewhere: BusyElsewhere,
) -> Step | Over | None:
    """An adviser's leg ended (`dial`: Twilio's dial status, the leg's CallSid if given, and
    the caller's call status): ring the next adviser unless the call is over. None when no
    leg has that id."""
    dial_status, dial_sid, call_status = dial
    leg = ringing.lock_leg(session, leg_id)
    if leg is None:
        return None
    if ringing.dial_ended(session, leg, dial_status, dial_sid, now):
        return Over.HELPED
    if call_status in TERMINAL or leg.call.ended_at is not None:
        return Over.CALLER_GONE
    # A repeat of this request means Twilio never got our first answer, so whoever it named
    # was never rung: next_ring rings them now instead.
    return next_ring(session, settings, leg.call, now, busy_elsewhere)
