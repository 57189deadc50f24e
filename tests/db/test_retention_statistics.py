"""Retention takes the personal data and leaves the statistics: `helpline stats` gives the same
JSON before and after both retention jobs have run over a fortnight long past."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callbacks import attempts
from callbacks.job_results import Deleted, JobResult, Pseudonymised
from callbacks.jobs import delete_recordings, pseudonymise_numbers
from callbacks.messages import record_message
from callbacks.models import Callback, Message
from calls.models import Call
from helpline.dialer import RecordingInfo
from helpline.statistics.figures import collect
from helpline.statistics.report import as_json
from rota.models import Adviser
from tests.constants import ANN, BEN, HEREFORD, PSEUDONYM_KEY, WORCS, london, parent
from tests.factories import Clock, adviser, make_settings, played_call, shift

FIRST = date(2025, 10, 6)  # a Monday 60 weeks before the clock's, past every retention period
LAST = FIRST + timedelta(days=11)


@dataclass
class KeptDeletions:
    """Twilio as a stand-in that notes which recordings it was asked to delete."""

    places_calls: bool = True
    deleted: list[str] = field(default_factory=list)

    def recent_recordings(
        self, since: datetime, until: datetime | None = None
    ) -> list[RecordingInfo]:
        return []

    def delete_recording(self, sid: str) -> None:
        self.deleted.append(sid)


def stats(session: Session) -> dict[str, Any]:
    session.flush()
    return as_json(collect(session, make_settings(), FIRST, LAST))


def call_back(
    session: Session, callback: Callback, who: Adviser, at: datetime, outcome: str
) -> None:
    attempt = attempts.start_attempt(session, callback, who, who.name, at)
    attempts.placed(attempt, None)
    attempt.parent_seconds = 120 if outcome == "spoke" else 0
    attempts.record_outcome(session, make_settings(), callback, outcome, who.name, at)


def fortnight(session: Session) -> list[Callback]:
    """Two weeks of calls to both counties, some callers ringing again, messages left and
    called back with every outcome; the callbacks, one of them still open."""
    settings = make_settings()
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", FIRST)
    ben = adviser(session, "Ben Bell", BEN, "worcestershire", FIRST)
    backs: list[Callback] = []
    for day in range(12):
        today = FIRST + timedelta(days=day)
        if today.weekday() >= 5:
            continue
        if day:
            shift(session, ann, "herefordshire", today)
            shift(session, ben, "worcestershire", today)
        for n in range(4):
            caller = parent(n + day % 3)  # the same few callers ring on several days
            number = (HEREFORD, WORCS)[n % 2]
            sid = f"CA{day:02d}{n:02d}" + "0" * 28
            at = london(today, 10 + n)
            if n == 0:
                played_call(session, settings, sid, number, at, answered_after=8, talk=400)
            elif n == 1:
                played_call(session, settings, sid, number, at, hang_up_after=30, caller=caller)
            else:
                played_call(
                    session, settings, sid, number, at, machine_after=25, ring=False, caller=caller
                )
                message = record_message(
                    session,
                    settings,
                    recording_sid=f"RE{day:02d}{n:02d}" + "0" * 28,
                    call_sid=sid,
                    duration_s=40 + n,
                    now=at + timedelta(minutes=1),
                )
                assert message is not None and message.callback is not None
                if message.callback not in backs:
                    backs.append(message.callback)
    session.flush()
    outcomes = ("spoke", "no-answer", "wrong-number", "left-message")
    for index, callback in enumerate(backs[:-1]):
        made = callback.created_at
        call_back(session, callback, ann, made + timedelta(hours=2), outcomes[index % 4])
        if callback.status in ("open", "assigned"):
            for later in range(1, 3):
                if callback.status in ("open", "assigned"):
                    at = made + timedelta(days=later, hours=1)
                    call_back(session, callback, ben, at, "no-answer")
    session.flush()
    return backs


def test_the_statistics_are_the_same_before_and_after_retention(
    session: Session, clock: Clock, run: Callable[..., JobResult]
) -> None:
    backs = fortnight(session)
    assert backs[-1].status == "open" and any(b.status == "unreachable" for b in backs)
    before = stats(session)
    hereford = before["offices"]["herefordshire"]
    assert hereford["calls"]["voicemail"] > 0 and hereford["callbacks"]["created"] > 0
    keyed = make_settings(PSEUDONYM_KEY=PSEUDONYM_KEY)
    twilio = KeptDeletions()

    deleted = run(delete_recordings, clock(), with_settings=keyed, dialer=twilio)
    replaced = run(pseudonymise_numbers, clock(), with_settings=keyed)

    assert stats(session) == before
    # Not because nothing happened: recordings went, numbers were replaced, the open one stayed.
    assert isinstance(deleted, Deleted) and deleted.deleted == len(twilio.deleted) > 0
    assert isinstance(replaced, Pseudonymised) and replaced.calls > 0 and replaced.callbacks > 0
    open_sids = {m.recording_sid for m in backs[-1].messages}
    assert open_sids and not open_sids & set(twilio.deleted)
    plain = session.scalar(
        select(func.count()).select_from(Call).where(Call.from_number.like("+%"))
    )
    kept = session.scalar(
        select(func.count()).select_from(Message).where(Message.deleted_at.is_(None))
    )
    assert plain and kept == len(open_sids)  # the open callback's caller keeps their number
