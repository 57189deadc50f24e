"""One call's wait and talk, from the service's own timestamps, as a played call reports them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from calls.models import Call
from calls.report import call_json, iso


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds())


def wait_seconds(call: Call) -> int | None:
    """Arrival to the adviser's 1, or to the answer machine, or to hanging up; None while the
    caller is still waiting."""
    reached = call.answered_at or call.reached_answer_machine_at or call.ended_at
    return _seconds(call.started_at, reached)


def talk_seconds(call: Call) -> int | None:
    """The adviser's 1 to the end of that adviser's leg; None until it has ended."""
    legs = [leg for leg in call.legs if leg.accepted_at is not None]
    if not legs or any(leg.ended_at is None for leg in legs):
        return None
    return sum(_seconds(leg.accepted_at, leg.ended_at) or 0 for leg in legs)


def figures(session: Session, sid: str) -> dict[str, Any] | None:
    """The call as `calls list` shows it, with its times and figures; None if not logged."""
    call = session.scalar(
        select(Call)
        .where(Call.sid == sid)
        .options(selectinload(Call.legs), selectinload(Call.answered_by))
    )
    if call is None:
        return None
    found = call_json(call)
    found.update(
        answered_at=iso(call.answered_at),
        reached_answer_machine_at=iso(call.reached_answer_machine_at),
        wait_s=wait_seconds(call),
        talk_s=talk_seconds(call),
    )
    return found
