"""Settling calls and adviser legs whose end never reached us: ask Twilio, or after a long
silence, end them as unknown rather than keep an adviser busy for hours.

In three steps, so that no transaction is open while Twilio is asked: `due` reads what needs
checking (the caller then commits), `ask` asks Twilio with no database at hand, and `apply`
locks each call again, looks afresh, and settles what is still open.

When to ask. A call sends nothing while a caller talks to an adviser, so silence alone means
little. An adviser's leg that never rang or was never accepted is over within a minute (ring
and screen times), so one still open after `QUIET` has lost its end. A conversation is asked
about once nothing has been heard of its call for `QUIET`, and then at every run (one request
per conversation; there are only as many as advisers). A call with no conversation is asked
about once it is older than the longest wait for an adviser, the answer machine and the
longest message allow, plus `QUIET`. When Twilio cannot say (no credentials, or a call it
does not know), a leg that was never accepted ends as unknown at once, and a conversation or a
call after `GIVE_UP` of silence: longer than nearly any helpline call, and far shorter than the
4 hours an adviser would otherwise stay busy. Twilio's final status, if it comes after all,
corrects what was settled as unknown (`calls.service.record_status`, `calls.legs.dial_ended`).

Twilio out of reach (or refusing to answer) is not "unknown to Twilio": nothing is settled on
it, since Twilio may well know of a conversation still going; the next run asks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from calls import ringing
from calls.events import record_event
from calls.models import Call, CallEvent, CallLeg
from calls.service import call_ended, end_leg, find_call
from calls.states import TERMINAL, LegState
from helpline.dialer import CallProgress, Dialer, DialerError
from helpline.settings import Settings

QUIET = timedelta(minutes=10)
GIVE_UP = timedelta(minutes=90)
BATCH = 50  # calls per run; each costs one or two requests to Twilio


class Unreachable(Enum):
    """Twilio could not be asked (out of reach, or it refused): no answer at all."""

    UNREACHABLE = "unreachable"


UNREACHABLE = Unreachable.UNREACHABLE
# Twilio's word on a call or leg: where it stands, None when Twilio does not know it (or there
# are no credentials to ask with), or UNREACHABLE when it could not be asked.
Answer = CallProgress | None | Literal[Unreachable.UNREACHABLE]


@dataclass(frozen=True)
class OpenLeg:
    """An adviser's leg still open, as read before asking Twilio."""

    id: int
    sid: str | None
    accepted: bool


@dataclass(frozen=True)
class OpenCall:
    """A call, or legs of it, still open long after they should have ended."""

    sid: str
    ended: bool  # the call has ended; only legs of it are open, and they end with it
    ask_about_call: bool
    legs: tuple[OpenLeg, ...]


@dataclass
class Settled:
    """What a run settled; `ended` are the calls it ended, for the caller to follow up."""

    checked: int = 0
    calls: int = 0
    legs: int = 0
    unknown: int = 0
    unreachable: int = 0  # calls and legs left for the next run: Twilio could not be asked
    ended: list[Call] = field(default_factory=list)


def longest_call_without_adviser(settings: Settings) -> timedelta:
    """Waiting for advisers, then the answer machine and the longest message, with a margin."""
    seconds = settings.routing.max_wait_seconds + settings.answer_machine.max_message_seconds
    return timedelta(seconds=seconds) + QUIET


def due(session: Session, settings: Settings, now: datetime) -> list[OpenCall]:
    """Calls and legs to check now, oldest first (read only)."""
    stale_leg = or_(
        CallLeg.accepted_at.is_(None) & (CallLeg.started_at < now - QUIET),
        CallLeg.accepted_at < now - QUIET,
    )
    leg_rows = session.execute(
        select(CallLeg.id, CallLeg.dial_sid, CallLeg.accepted_at, Call.sid, Call.ended_at)
        .join(Call, Call.id == CallLeg.call_id)
        .where(CallLeg.ended_at.is_(None), stale_leg)
        .order_by(CallLeg.started_at)
        .limit(BATCH * 4)
    ).all()
    old_calls = session.scalars(
        select(Call.sid)
        .where(
            Call.ended_at.is_(None),
            Call.started_at < now - longest_call_without_adviser(settings),
        )
        .order_by(Call.started_at)
        .limit(BATCH)
    ).all()
    open_legs: dict[str, list[OpenLeg]] = {}
    ended: set[str] = set()
    for leg_id, dial_sid, accepted_at, call_sid, call_ended_at in leg_rows:
        open_legs.setdefault(call_sid, []).append(OpenLeg(leg_id, dial_sid, bool(accepted_at)))
        if call_ended_at is not None:
            ended.add(call_sid)
    sids = list(dict.fromkeys([*open_legs, *old_calls]))[:BATCH]
    heard = _last_heard(session, sids)
    found = []
    for sid in sids:
        legs = open_legs.get(sid, [])
        if sid in ended:
            found.append(OpenCall(sid, ended=True, ask_about_call=False, legs=tuple(legs)))
            continue
        quiet = sid not in heard or heard[sid] < now - QUIET
        talking = any(leg.accepted for leg in legs)
        ask_about_call = quiet and (talking or sid in old_calls)
        due_legs = tuple(leg for leg in legs if quiet or not leg.accepted)
        if ask_about_call or due_legs:
            found.append(OpenCall(sid, False, ask_about_call, due_legs))
    return found


def ask(dialer: Dialer, open_calls: Iterable[OpenCall]) -> dict[str, Answer]:
    """Twilio's word on each call and leg, by CallSid (see `Answer`). No database."""
    wanted: list[str] = []
    for open_call in open_calls:
        if open_call.ended:
            continue  # its legs end with it: nothing to ask
        if open_call.ask_about_call:
            wanted.append(open_call.sid)
        wanted.extend(leg.sid for leg in open_call.legs if leg.sid)
    if not dialer.places_calls:
        return dict.fromkeys(wanted)
    answers: dict[str, Answer] = {}
    for sid in wanted:
        try:
            answers[sid] = dialer.fetch_call_status(sid)
        except DialerError:
            answers[sid] = UNREACHABLE  # nothing is settled on it; asked again next run
    return answers


def apply(
    session: Session,
    open_calls: Iterable[OpenCall],
    answers: Mapping[str, Answer],
    now: datetime,
) -> Settled:
    """Settle what is still open, from Twilio's answers or, where Twilio does not know, as
    unknown; what Twilio could not be asked about is left for the next run."""
    result = Settled()
    for open_call in open_calls:
        call = find_call(session, open_call.sid)  # locked, and read afresh
        if call is None:
            continue
        result.checked += 1
        heard = _last_heard(session, [call.sid]).get(call.sid, call.started_at)
        for seen in open_call.legs:
            leg = session.get(CallLeg, seen.id)
            if leg is None or leg.ended_at is not None:
                continue  # a webhook settled it meanwhile
            if call.ended_at is not None:
                _end_leg(session, leg, LegState.CALLER_GONE, call.ended_at)
            elif (answer := answers.get(seen.sid or "")) is UNREACHABLE:
                result.unreachable += 1
                continue
            elif not _settle_leg(session, leg, answer, heard, now):
                continue
            result.legs += 1
            result.unknown += leg.state == LegState.UNKNOWN
        if call.ended_at is None and open_call.ask_about_call:
            answer = answers.get(call.sid)
            if answer is UNREACHABLE:
                result.unreachable += 1
                continue
            how = _settle_call(session, call, answer, heard, now)
            if how is not None:
                result.calls += 1
                result.unknown += how == "unknown"
                result.ended.append(call)
    session.flush()
    return result


def _settle_leg(
    session: Session, leg: CallLeg, answer: CallProgress | None, heard: datetime, now: datetime
) -> bool:
    if answer is not None:
        if answer.status not in TERMINAL:
            return False  # Twilio says it is still going
        ringing.dial_ended(session, leg, answer.status, answer.sid, answer.ended_at or now)
        return True
    if leg.accepted_at is not None and heard > now - GIVE_UP:
        return False  # a conversation Twilio cannot tell us about: give it time
    _end_leg(session, leg, LegState.UNKNOWN, max(heard, leg.accepted_at or leg.started_at))
    return True


def _settle_call(
    session: Session, call: Call, answer: CallProgress | None, heard: datetime, now: datetime
) -> str | None:
    """End the call from Twilio's answer ('twilio') or as 'unknown'; None while it goes on."""
    if answer is not None:
        if answer.status not in TERMINAL:
            return None  # Twilio says it is still going
        call.status = answer.status
        call_ended(call, answer.ended_at or now, answer.duration_s)
        how = "twilio"
    else:
        talking = any(leg.accepted_at and leg.ended_at is None for leg in call.legs)
        if talking or heard > now - GIVE_UP:
            return None
        call_ended(call, heard, None)  # at the last thing known to have happened
        how = "unknown"
    record_event(session, call.sid, "settled", now, {"by": how}, key=f"settled:{call.sid}")
    return how


def _end_leg(session: Session, leg: CallLeg, how: LegState, at: datetime) -> None:
    """End the leg at `at` (see `calls.service.leg_end_state`), and say so in its events."""
    end_leg(leg, at, how)
    record_event(
        session,
        leg.call.sid,
        "leg-ended",
        at,
        {"leg": leg.id, "state": leg.state, "settled": True},
        key=f"leg-ended:{leg.id}",
    )


def _last_heard(session: Session, sids: list[str]) -> dict[str, datetime]:
    """When each call was last heard of (its latest event)."""
    if not sids:
        return {}
    rows = session.execute(
        select(CallEvent.call_sid, func.max(CallEvent.at))
        .where(CallEvent.call_sid.in_(sids))
        .group_by(CallEvent.call_sid)
    )
    return {sid: at for sid, at in rows}
