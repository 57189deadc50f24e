"""The pseudonymise-numbers job: callers' numbers past retention become keyed pseudonyms in
calls, messages and callbacks; an open callback's number is never touched."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from accounts.audit import record_for_job
from accounts.models import AuditEntry
from callbacks import common, staff_actions
from callbacks.job_results import JobResult, Pseudonymised
from callbacks.jobs import JobContext, pseudonymise_numbers
from callbacks.models import Callback, Message
from callbacks.pseudonyms import PseudonymKeyMissing
from calls import service as calls
from calls.models import Call
from calls.report import recent_calls
from helpline.db import session_factory
from helpline.dialer import LoggingDialer
from helpline.phones import pseudonym
from helpline.settings import Settings
from tests.constants import HEREFORD, OTHER_PARENT, PARENT, PSEUDONYM_KEY, parent
from tests.db.jobs.helpers import delete_everything, old_message
from tests.factories import Clock, make_settings

HIDDEN = pseudonym(PARENT, PSEUDONYM_KEY)


@pytest.fixture
def keyed() -> Settings:
    return make_settings(PSEUDONYM_KEY=PSEUDONYM_KEY)


def ended_message(
    session: Session, settings: Settings, n: int, phone: str, days_ago: int, now: datetime
) -> Message:
    """A message left `days_ago` days ago, its call ended a minute later."""
    message = old_message(session, settings, f"RE{n:02d}" + "7" * 30, phone, days_ago, now)
    end = message.received_at + timedelta(minutes=1)
    calls.record_status(session, settings, calls.StatusReport(message.call_sid, "completed"), end)
    return message


def close(session: Session, message: Message, days_ago: int, now: datetime) -> Callback:
    callback = common.get(session, message.callback_id or 0)
    staff_actions.close(session, callback, "sorted", "Ann", now - timedelta(days=days_ago))
    return callback


def ended_call(
    session: Session, settings: Settings, sid: str, phone: str | None, days_ago: int, now: datetime
) -> Call:
    """A call answered or abandoned `days_ago` days ago, with no message."""
    at = now - timedelta(days=days_ago)
    call, _ = calls.record_incoming(session, settings, sid, phone, HEREFORD, at)
    calls.record_status(session, settings, calls.StatusReport(sid, "completed"), at)
    return call


def numbers(session: Session) -> dict[str, list[str | None]]:
    session.expire_all()
    return {
        "callbacks": list(session.scalars(select(Callback.phone).order_by(Callback.id))),
        "messages": list(session.scalars(select(Message.phone).order_by(Message.id))),
        "calls": list(session.scalars(select(Call.from_number).order_by(Call.id))),
    }


def test_numbers_past_retention_become_pseudonyms_and_open_callbacks_keep_theirs(
    session: Session, keyed: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    now = clock()
    # A repeat caller: two callbacks, closed 380 and 366 days ago.
    first = ended_message(session, keyed, 1, PARENT, 400, now)
    close(session, first, 380, now)
    again = ended_message(session, keyed, 2, PARENT, 370, now)
    close(session, again, 366, now)
    # Left long ago, closed 100 days ago: kept.
    lately = ended_message(session, keyed, 3, OTHER_PARENT, 400, now)
    close(session, lately, 100, now)
    # Open for 500 days: its number is kept everywhere, in an old call without a message too.
    ended_message(session, keyed, 4, parent(7), 500, now)
    ended_call(session, keyed, "CA" + "8" * 32, parent(7), 450, now)
    # Calls with no message: one old, one recent, one withheld.
    ended_call(session, keyed, "CA" + "9" * 32, parent(9), 400, now)
    ended_call(session, keyed, "CA" + "a" * 32, parent(9), 10, now)
    ended_call(session, keyed, "CA" + "b" * 32, None, 400, now)

    result = run(pseudonymise_numbers, now, with_settings=keyed)

    assert result == Pseudonymised(callbacks=2, messages=2, calls=3)
    other = pseudonym(parent(9), PSEUDONYM_KEY)
    assert numbers(session) == {
        "callbacks": [HIDDEN, HIDDEN, OTHER_PARENT, parent(7)],
        "messages": [HIDDEN, HIDDEN, OTHER_PARENT, parent(7)],
        "calls": [HIDDEN, HIDDEN, OTHER_PARENT, parent(7), parent(7), other, parent(9), None],
    }
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "numbers-pseudonymised")
    ).all()
    assert (entry.actor_id, entry.actor_email) == (None, "system: pseudonymise-numbers")
    assert entry.detail == {"callbacks": 2, "messages": 2, "calls": 3}

    # The JSON of `helpline calls list` gives no pseudonym as a caller's number.
    shown = {c["sid"]: c["from"] for c in recent_calls(session)}
    assert shown[first.call_sid] is None and shown["CA" + "a" * 32] == parent(9)

    # Run again: nothing more to do, and nothing more audited.
    assert run(pseudonymise_numbers, now, with_settings=keyed) == Pseudonymised(0, 0, 0)
    assert len(session.scalars(select(AuditEntry)).all()) == 1


def test_a_callers_pseudonym_is_the_same_whenever_their_numbers_are_replaced(
    session: Session, keyed: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    now = clock()
    first = ended_message(session, keyed, 1, PARENT, 400, now)
    close(session, first, 380, now)
    run(pseudonymise_numbers, now, with_settings=keyed)
    later = ended_message(session, keyed, 2, PARENT, 10, now)
    close(session, later, 5, now)

    run(pseudonymise_numbers, now + timedelta(days=370), with_settings=keyed)

    assert set(numbers(session)["callbacks"]) == {HIDDEN}


def test_without_the_key_the_job_refuses_and_changes_nothing(
    session: Session, settings: Settings, clock: Clock, run: Callable[..., JobResult]
) -> None:
    now = clock()
    message = ended_message(session, settings, 1, PARENT, 400, now)
    close(session, message, 380, now)
    before = numbers(session)

    with pytest.raises(PseudonymKeyMissing):
        run(pseudonymise_numbers, now)

    assert numbers(session) == before
    assert session.scalars(select(AuditEntry)).all() == []


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    """The test database itself (no rolled-back transaction around the test), emptied after."""
    try:
        yield engine
    finally:
        delete_everything(engine)


def test_two_clocks_at_once_replace_each_number_once(clean: Engine, keyed: Settings) -> None:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    with Session(clean) as setup:
        for n in range(30):
            message = ended_message(setup, keyed, n, parent(n), 400, now)
            close(setup, message, 380, now)
        setup.commit()
    sessions = session_factory(clean)
    ctx = JobContext(keyed, LoggingDialer(), record_for_job)
    start = threading.Barrier(2)
    results: list[JobResult] = []

    def clock_run() -> None:
        start.wait()
        results.append(pseudonymise_numbers(sessions, ctx, now))

    threads = [threading.Thread(target=clock_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    done = [r for r in results if isinstance(r, Pseudonymised)]
    assert len(done) == 2
    assert sum(r.callbacks for r in done) == 30
    assert sum(r.messages for r in done) == 30
    assert sum(r.calls for r in done) == 30
    with Session(clean) as check:
        phones = check.scalars(select(Callback.phone)).all()
        assert sorted(phones) == sorted(pseudonym(parent(n), PSEUDONYM_KEY) for n in range(30))
