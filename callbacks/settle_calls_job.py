"""The settle-calls job: calls and adviser legs whose end never reached us, settled from
Twilio's answer or, failing that, after a long silence (the rules are in calls/settle.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import SettledCalls
from callbacks.messages import attach_orphans, file_missed_call
from calls import settle
from calls.states import CallOutcome
from helpline.db import unit_of_work

if TYPE_CHECKING:
    from callbacks.jobkit import JobContext


def settle_calls(sessions: sessionmaker[Session], ctx: JobContext, now: datetime) -> SettledCalls:
    """Ask Twilio about calls and adviser legs whose end never arrived, and settle them.

    What to check is read in one short transaction, committed before Twilio is asked, so
    nothing is held open meanwhile; the answers are applied in a second one, which locks each
    call as a webhook does, so a second clock or a late webhook simply finds it settled.
    """
    with unit_of_work(sessions) as session:
        open_calls = settle.due(session, ctx.settings, now)
    answers = settle.ask(ctx.dialer, open_calls)
    with unit_of_work(sessions) as session:
        result = settle.apply(session, open_calls, answers, now)
        for call in result.ended:  # as the call's own final status would have done
            attach_orphans(session, ctx.settings, call, now)
            if call.outcome == CallOutcome.MISSED:
                file_missed_call(session, ctx.settings, call, now)
    return SettledCalls(
        checked=result.checked,
        calls=result.calls,
        legs=result.legs,
        unknown=result.unknown,
        unreachable=result.unreachable,
    )
