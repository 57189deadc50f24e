"""Ringing advisers for a live call: who is busy, who is next, and each leg's fate.

Services flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calls import claim
from calls.events import Events, record_event
from calls.models import Call, CallLeg
from calls.routing import OfficeNow, next_adviser, office_sequence
from calls.service import StatusReport, end_leg, new_leg, reopen_unknown_leg
from calls.states import OPEN_LEG_STATES, TERMINAL, LegState, TwilioCallStatus, unanswered_leg_end
from helpline.settings import Settings
from rota import availability
from rota import service as rota
from rota.availability import OnShift


def lock_leg(session: Session, leg_id: int) -> CallLeg | None:
    """The leg with its call locked until the transaction ends, both read afresh.

    The same lock as `calls.service.find_call`, so that webhooks about one call, whether they
    name the call or one of its legs, take turns: two advisers pressing 1 at once cannot both
    take the call.
    """
    call_id = session.scalar(select(CallLeg.call_id).where(CallLeg.id == leg_id))
    if call_id is None:
        return None
    session.scalar(
        select(Call)
        .where(Call.id == call_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return session.scalar(
        select(CallLeg).where(CallLeg.id == leg_id).execution_options(populate_existing=True)
    )


@dataclass(frozen=True)
class Ring:
    """An adviser's leg started: where to ring, and whether the office the caller rang is open."""

    leg: CallLeg
    phone: str
    rung_open: bool


def ring_next(
    session: Session,
    settings: Settings,
    call: Call,
    now: datetime,
    elsewhere: claim.BusyElsewhere | None = None,
    events: Events | None = None,
) -> Ring | None:
    """Start ringing the next adviser for the call, or None when the answer machine is next.

    `elsewhere` names advisers busy outside the call log (making a call back, say). The pure
    routing rules choose; `calls.claim` makes sure nobody else took the chosen adviser
    meanwhile, and when somebody did, the rules choose again knowing it. The leg's event is
    kept with `events` (the step's so far), in one statement, before it returns.
    """
    kept = Events() if events is None else events
    ring = _ring_next(session, settings, call, now, elsewhere, kept)
    kept.write(session)
    return ring


def _ring_next(
    session: Session,
    settings: Settings,
    call: Call,
    now: datetime,
    elsewhere: claim.BusyElsewhere | None,
    events: Events,
) -> Ring | None:
    if (now - call.started_at).total_seconds() >= settings.routing.max_wait_seconds:
        return None  # the caller has waited long enough: take a message instead
    rung = settings.offices[call.office]
    sequence = office_sequence(rung.key, rung.fallback)
    advisers = claim.advisers_now(session, settings, call, now, elsewhere, sequence)
    is_open = {
        key: rota.open_at(settings, key, now, closed=key in advisers.closed) for key in sequence
    }
    legs = [leg for leg in call.legs if leg.state != LegState.CANCELLED]
    tried = {leg.adviser_id for leg in legs}
    held: set[int] = set()  # skipped: other decisions are putting them through this instant
    wait = False
    for _ in range(3 * len(advisers.working) + 2):
        offices = {
            key: OfficeNow(
                is_open=is_open[key],
                candidates=availability.candidates(
                    [a for a in advisers.working if a.office == key],
                    busy=advisers.busy | held,
                    ringing_elsewhere=advisers.ringing,
                    tried=tried,
                    last_rung=advisers.last_rung,
                ),
                tried=sum(1 for leg in legs if leg.office == key),
            )
            for key in sequence
        }
        adviser = next_adviser(sequence, offices, settings.routing.max_advisers_per_office)
        if adviser is None and held and not wait:
            # Everyone left is being put through to other callers this instant: rather than
            # send the caller to the answer machine, wait for them, in the rules' order.
            held.clear()
            wait = True
            continue
        if adviser is None:
            return None
        chosen = adviser.adviser_id
        allowed = chosen in advisers.ringing
        found = claim.claim(
            session, settings, call, chosen, now, ringing_allowed=allowed, wait=wait
        )
        if found is claim.Claim.CLAIMED:
            return Ring(
                _start_leg(session, call, adviser, now, events),
                adviser.phone,
                is_open[call.office],
            )
        # Others took them since routing read: choose again, knowing that.
        if found is claim.Claim.TAKEN:
            advisers.busy.add(chosen)
        elif found is claim.Claim.RINGING or not allowed:
            advisers.ringing.add(chosen)  # being rung, or about to be, for another caller
        else:
            held.add(chosen)
    return None


def _start_leg(
    session: Session, call: Call, adviser: OnShift, now: datetime, events: Events
) -> CallLeg:
    values = {
        "call_id": call.id,
        "adviser_id": adviser.adviser_id,
        "office": adviser.office,
        "state": LegState.RINGING,
        "started_at": now,
    }
    leg = new_leg(session, call, values)
    events.add(
        call.sid,
        "leg-ringing",
        now,
        {"leg": leg.id, "adviser_id": adviser.adviser_id, "office": adviser.office},
    )
    return leg


def leg_picked_up(
    session: Session, leg: CallLeg, now: datetime, dial_sid: str | None = None
) -> None:
    """The adviser's phone (or its voicemail) answered: the screen is being played."""
    if dial_sid and not leg.dial_sid:
        leg.dial_sid = dial_sid  # so that Twilio can be asked about the leg later
    if leg.state == LegState.RINGING and leg.ended_at is None:
        leg.state = LegState.SCREENING
        leg.picked_up_at = now
        record_event(session, leg.call.sid, "leg-picked-up", now, {"leg": leg.id})


def leg_accepted(session: Session, leg: CallLeg, now: datetime) -> bool:
    """The adviser pressed 1. False when the call can no longer be taken (ended, or taken)."""
    call = leg.call
    if call.ended_at is not None or leg.ended_at is not None:
        return False
    if call.answered_by_id is not None and call.answered_by_id != leg.adviser_id:
        return False
    if leg.state != LegState.ACCEPTED:
        claim.hold_for_answer(session, leg.adviser_id)
        leg.state = LegState.ACCEPTED
        leg.accepted_at = now
        call.answered_by_id = leg.adviser_id
        call.answered_office = leg.office
        call.answered_at = now
        record_event(
            session,
            call.sid,
            "leg-accepted",
            now,
            {"leg": leg.id, "adviser_id": leg.adviser_id, "office": leg.office},
            key=f"leg-accepted:{leg.id}",
        )
    return True


def cancel_unrung_legs(session: Session, call: Call, now: datetime) -> None:
    """Legs put in TwiML that Twilio never acted on (a key pressed first, or a lost answer):
    still ringing with no word from Twilio about them."""
    for leg in call.legs:
        unheard_of = leg.picked_up_at is None and leg.dial_sid is None
        if leg.state == LegState.RINGING and leg.ended_at is None and unheard_of:
            leg.state = LegState.CANCELLED
            leg.ended_at = now


def leg_declined(session: Session, leg: CallLeg, now: datetime) -> None:
    """The screen ended without a 1: a voicemail, a wrong key, or no key at all."""
    if leg.state in OPEN_LEG_STATES:
        leg.state = LegState.DECLINED
        record_event(session, leg.call.sid, "leg-declined", now, {"leg": leg.id})


def dial_ended(
    session: Session, leg: CallLeg, dial_status: str, dial_sid: str | None, now: datetime
) -> bool:
    """The adviser's leg is over; True when it had been accepted (the caller was helped).

    A leg settled as unknown (see calls.settle) takes its end from this word instead."""
    if dial_sid and not leg.dial_sid:
        leg.dial_sid = dial_sid
    corrected = reopen_unknown_leg(leg)
    if leg.ended_at is None:
        end_leg(leg, now, unanswered_leg_end(dial_status))
        record_event(
            session,
            leg.call.sid,
            "leg-corrected" if corrected else "leg-ended",
            now,
            {"leg": leg.id, "dial_status": dial_status, "state": leg.state},
            key=f"leg-{'corrected' if corrected else 'ended'}:{leg.id}",
        )
    return leg.accepted_at is not None


def leg_status(session: Session, leg: CallLeg, report: StatusReport, now: datetime) -> bool:
    """Twilio's word on the adviser's leg; False for a repeat. The leg's end ends it (and frees
    the adviser) whether or not the dial result follows; a late word changes nothing."""
    seq = report.sequence
    key = f"leg-status:{leg.id}:{seq if seq is not None else report.status}"
    detail = {
        "leg": leg.id,
        "status": report.status,
        "sequence": seq,
        "duration": report.duration_s,
    }
    if not record_event(session, leg.call.sid, "leg-status", now, detail, key=key):
        return False
    if report.status in TERMINAL:
        dial_ended(session, leg, report.status, report.sid, now)
    elif report.status == TwilioCallStatus.IN_PROGRESS:
        leg_picked_up(session, leg, now, report.sid)
    elif not leg.dial_sid:
        leg.dial_sid = report.sid
    return True


def ring_timeout(settings: Settings, call: Call, now: datetime) -> int:
    """How long to ring the next adviser: the usual time, cut short near the longest wait."""
    left = settings.routing.max_wait_seconds - (now - call.started_at).total_seconds()
    return max(5, min(settings.routing.ring_seconds, int(left)))
