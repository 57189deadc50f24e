"""Ringing advisers for a live call: who is busy, who is next, and each leg's fate.

Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from calls.models import Call, CallLeg
from calls.routing import OfficeNow, next_adviser, office_sequence
from calls.service import StatusReport, end_leg, record_event, reopen_unknown_leg
from calls.states import OPEN_LEG_STATES, TERMINAL, LegState, TwilioCallStatus, unanswered_leg_end
from helpline.settings import Settings
from rota import availability
from rota import service as rota


def _busy_and_ringing(
    session: Session, settings: Settings, call: Call, now: datetime
) -> tuple[set[int], set[int], dict[int, datetime]]:
    routing = settings.routing
    busy = set(
        session.scalars(
            select(CallLeg.adviser_id).where(
                CallLeg.state == LegState.ACCEPTED,
                CallLeg.ended_at.is_(None),
                CallLeg.accepted_at > now - timedelta(hours=routing.busy_after_accept_hours),
            )
        )
    )
    ring_window = timedelta(seconds=routing.ring_seconds + routing.screen_seconds + 60)
    ringing = set(
        session.scalars(
            select(CallLeg.adviser_id).where(
                CallLeg.state.in_(OPEN_LEG_STATES),
                CallLeg.ended_at.is_(None),
                CallLeg.started_at > now - ring_window,
                CallLeg.call_id != call.id,
            )
        )
    )
    # Fairness only needs today's ringing. Reading today's few legs through the started_at index
    # and taking the latest per adviser here stays fast however long the call log grows (a
    # GROUP BY lets SQLite walk every leg ever rung instead).
    last_rung: dict[int, datetime] = {}
    for adviser_id, at in session.execute(
        select(CallLeg.adviser_id, CallLeg.started_at).where(
            CallLeg.started_at > now - timedelta(days=1),
            CallLeg.state != LegState.CANCELLED,  # put in an answer Twilio never got: never rang
        )
    ):
        if adviser_id not in last_rung or at > last_rung[adviser_id]:
            last_rung[adviser_id] = at
    return busy, ringing, last_rung


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


ROUTING_LOCK = 0x53454E44  # one advisory lock serialises routing decisions on PostgreSQL


def ring_next(
    session: Session,
    settings: Settings,
    call: Call,
    now: datetime,
    also_busy: Collection[int] = (),
) -> CallLeg | None:
    """Start ringing the next adviser for the call, or None when the answer machine is next.

    `also_busy` names advisers busy elsewhere (making a call back, say). On PostgreSQL two
    calls arriving together take turns here, so they never pick the same free adviser; SQLite
    already serialises writers.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK})
    if (now - call.started_at).total_seconds() >= settings.routing.max_wait_seconds:
        return None  # the caller has waited long enough: take a message instead
    rung = settings.offices[call.office]
    sequence = office_sequence(rung.key, rung.fallback)
    busy, ringing, last_rung = _busy_and_ringing(session, settings, call, now)
    busy |= set(also_busy)
    legs = [leg for leg in call.legs if leg.state != LegState.CANCELLED]
    tried = {leg.adviser_id for leg in legs}
    working = rota.on_shift(session, now)
    offices: dict[str, OfficeNow] = {}
    for key in sequence:
        is_open = rota.calendar(session, settings, key, now, days=2).is_open(now)
        team = [a for a in working if a.office == key]
        offices[key] = OfficeNow(
            is_open=is_open,
            candidates=availability.candidates(
                team, busy=busy, ringing_elsewhere=ringing, tried=tried, last_rung=last_rung
            ),
            tried=sum(1 for leg in legs if leg.office == key),
        )
    adviser = next_adviser(sequence, offices, settings.routing.max_advisers_per_office)
    if adviser is None:
        return None
    leg = CallLeg(
        call_id=call.id,
        adviser_id=adviser.adviser_id,
        office=adviser.office,
        state=LegState.RINGING,
        started_at=now,
    )
    session.add(leg)
    session.flush()
    call.legs.append(leg)
    record_event(
        session,
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
