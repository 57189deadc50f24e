"""The settle-calls job as the scheduler runs it: read what to check in one transaction and
commit it, ask Twilio with none open, apply the answers in a second."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.job_results import SettledCalls
from callbacks.jobs import JOBS, JobContext
from calls.models import Call, CallLeg
from helpline.dialer import CallProgress
from helpline.settings import Settings
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, adviser, signed_post

SID = "CA" + "6" * 32
LEG_SID = "CA" + "8" * 32


class Dialer:
    """Twilio's answers, noting when it was asked."""

    places_calls = True

    def __init__(self, steps: list[str], ended: datetime) -> None:
        self.steps = steps
        self.ended = ended

    def fetch_call_status(self, sid: str) -> CallProgress:
        self.steps.append("asked Twilio")
        return CallProgress(sid, "completed", self.ended, 600)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the job asked the dialer for {name}")


def test_settle_calls_commits_what_it_read_before_asking_twilio_and_says_so(
    client: FlaskClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
) -> None:
    adviser(session, "Ann Ash", "+447700900001", "herefordshire", date(2026, 11, 30))
    session.commit()
    signed_post(
        client,
        "/voice/incoming",
        {"CallSid": SID, "From": "+447700900123", "To": HEREFORD},
        token=TOKEN,
        base_url=BASE_URL,
    )
    leg = session.scalars(select(CallLeg)).one().id
    session.commit()
    for path, digits in (
        (f"/voice/screen?leg={leg}", ""),
        (f"/voice/screen-answer?leg={leg}", "1"),
    ):
        params = {"CallSid": LEG_SID, "ParentCallSid": SID, "Digits": digits}
        signed_post(client, path, params, token=TOKEN, base_url=BASE_URL)
    ended = clock() + timedelta(minutes=10)
    clock.advance(minutes=30)
    steps: list[str] = []

    watched = sessionmaker(**sessions.kw)
    event.listen(watched, "after_commit", lambda _session: steps.append("committed"))

    ctx = JobContext(settings, Dialer(steps, ended))  # type: ignore[arg-type]
    result = JOBS["settle-calls"].run(watched, ctx, clock())

    # What to check was committed before Twilio was asked; the answers were committed after.
    assert steps[:3] == ["committed", "asked Twilio", "asked Twilio"]
    assert steps[3:] and set(steps[3:]) == {"committed"}
    assert result == SettledCalls(checked=1, calls=1, legs=1, unknown=0, unreachable=0)
    session.expire_all()
    assert session.scalars(select(Call.ended_at)).one() == ended
