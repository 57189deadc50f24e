"""Webhooks at the same moment on PostgreSQL: calls never ring one free adviser twice, nor
one who has just accepted; webhooks about one call take turns."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import calls.claim
from callbacks.models import Message
from calls.models import Call, CallLeg
from helpline.app import create_app, make_runtime
from helpline.db import session_factory
from helpline.settings import Settings
from rota.models import Adviser
from tests.constants import ANN, BEN, CAT, DAN, HEREFORD, PARENT, parent
from tests.factories import adviser, signed_post
from webhooks import wording

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def committed(committed: Engine) -> Engine:
    """The PostgreSQL test database with committed data, emptied again afterwards."""
    if committed.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time, so two webhooks cannot overlap there")
    return committed


def test_two_calls_at_once_ring_two_different_advisers(
    committed: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
        adviser(setup, "Ben Birch", BEN, "herefordshire", date(2026, 11, 30))
        setup.commit()
    # Hold each routing decision open for a moment, so that the two overlap unless routing
    # takes turns.
    slow_reads(monkeypatch, 0.3)
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    barrier = threading.Barrier(2, timeout=10)
    answers: list[str] = []

    def call(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        params = {"CallSid": f"CA{n:032d}", "From": f"+44770090012{n}", "To": HEREFORD}
        response = signed_post(client, "/voice/incoming", params)
        answers.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=call, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    rung = sorted(ANN if ANN in body else BEN if BEN in body else "nobody" for body in answers)
    assert rung == [ANN, BEN]
    with Session(committed) as check:
        legs = check.execute(select(Adviser.name).join(CallLeg, CallLeg.adviser_id == Adviser.id))
        assert sorted(name for (name,) in legs) == ["Ann Ash", "Ben Birch"]


# --- two webhooks about one call at once ----------------------------------------------------


def at_once(app: Flask, requests: list[tuple[str, dict[str, str]]]) -> list[str]:
    """Send signed requests together, one thread (and database connection) each; the answers."""
    barrier = threading.Barrier(len(requests), timeout=10)
    answers: list[str] = [""] * len(requests)
    errors: list[BaseException] = []

    def send(n: int, path: str, params: dict[str, str]) -> None:
        try:
            client = app.test_client()
            barrier.wait()
            response = signed_post(client, path, params)
            assert response.status_code == 200
            answers[n] = response.get_data(as_text=True)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=send, args=(n, path, params))
        for n, (path, params) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return answers


def test_the_recording_and_the_final_status_at_once_both_take_effect(
    committed: Engine, settings: Settings
) -> None:
    # Nobody is on shift, so each call goes straight to the answer machine.
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    client = app.test_client()
    sids = [f"CA{n:032d}" for n in range(40)]
    for n, sid in enumerate(sids):
        params = {"CallSid": sid, "From": f"+447700900{200 + n}", "To": HEREFORD}
        assert "<Record" in signed_post(client, "/voice/incoming", params).get_data(as_text=True)
    for n, sid in enumerate(sids):
        recording = {
            "CallSid": sid,
            "RecordingSid": "RE" + sid[2:],
            "RecordingUrl": "https://api.twilio.com/recording",
            "RecordingDuration": "25",
            "Digits": "hangup",
            "CallStatus": "in-progress",
        }
        final = {"CallSid": sid, "CallStatus": "completed", "CallDuration": "60"}
        pair = [("/voice/recorded", recording), ("/voice/status", final)]
        at_once(app, pair if n % 2 else pair[::-1])
    with Session(committed) as check:
        outcomes = dict(check.execute(select(Call.sid, Call.outcome)).all())
        filed = set(check.scalars(select(Message.call_sid).where(Message.callback_id.is_not(None))))
    wrong = sorted(sid for sid in sids if outcomes[sid] != "voicemail")
    assert len(wrong) == 0, f"{len(wrong)} of {len(sids)} calls are not 'voicemail'"
    assert filed == set(sids)


def test_two_advisers_pressing_1_at_once_never_both_get_the_call(
    committed: Engine, settings: Settings
) -> None:
    # Two legs of one call screening at the same moment (a lost answer can leave two ringing).
    with Session(committed) as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
        ben = adviser(setup, "Ben Birch", BEN, "worcestershire", date(2026, 11, 30))
        pairs = []
        for n in range(20):
            call = Call(
                sid=f"CA{n:032d}", to_number=HEREFORD, office="herefordshire", started_at=NOW
            )
            setup.add(call)
            setup.flush()
            legs = [
                CallLeg(
                    call_id=call.id,
                    adviser_id=person.id,
                    office=office,
                    state="screening",
                    started_at=NOW,
                    picked_up_at=NOW,
                )
                for person, office in ((ann, "herefordshire"), (ben, "worcestershire"))
            ]
            setup.add_all(legs)
            setup.flush()
            pairs.append((call.sid, legs[0].id, legs[1].id))
        setup.commit()
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    bridged = 0
    for _sid, ann_leg, ben_leg in pairs:
        answers = at_once(
            app,
            [
                (f"/voice/screen-answer?leg={leg}", {"CallSid": f"CA{leg:032d}", "Digits": "1"})
                for leg in (ann_leg, ben_leg)
            ],
        )
        bridged += sum("<Say" not in answer for answer in answers)  # an empty document bridges
    with Session(committed) as check:
        accepted = check.execute(
            select(Call.sid, func.count())
            .join(CallLeg, CallLeg.call_id == Call.id)
            .where(CallLeg.state == "accepted")
            .group_by(Call.sid)
        ).all()
    assert bridged == len(pairs)
    assert dict(accepted) == {sid: 1 for sid, _, _ in pairs}


def test_an_incoming_call_and_its_retry_at_once_make_one_call_and_no_apology(
    committed: Engine, settings: Settings
) -> None:
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    sids = [f"CA{n:032d}" for n in range(20)]
    answers = []
    for sid in sids:
        params = {"CallSid": sid, "From": PARENT, "To": HEREFORD}
        answers += at_once(app, [("/voice/incoming", params), ("/voice/incoming", params)])
    assert [a for a in answers if wording.APOLOGY in a] == []
    with Session(committed) as check:
        assert sorted(check.scalars(select(Call.sid))) == sids


def test_a_ring_out_and_the_caller_hanging_up_at_once_leave_no_adviser_ringing(
    committed: Engine, settings: Settings
) -> None:
    with Session(committed) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
        adviser(setup, "Ben Birch", BEN, "herefordshire", date(2026, 11, 30))
        setup.commit()
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    client = app.test_client()
    for n in range(20):
        sid = f"CA{n:032d}"
        params = {"CallSid": sid, "From": PARENT, "To": HEREFORD}
        signed_post(client, "/voice/incoming", params)
        with Session(committed) as look:
            leg = look.scalars(
                select(CallLeg.id).join(Call).where(Call.sid == sid).order_by(CallLeg.id.desc())
            ).first()
        rang_out = {"CallSid": sid, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}
        gone = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "3"}
        pair = [(f"/voice/dial-result?leg={leg}", rang_out), ("/voice/status", gone)]
        at_once(app, pair if n % 2 else pair[::-1])
    with Session(committed) as check:
        still_open = check.scalars(select(CallLeg.id).where(CallLeg.ended_at.is_(None))).all()
        outcomes = set(check.scalars(select(Call.outcome)))
    assert still_open == []
    assert outcomes == {"abandoned"}


# --- many calls at once ----------------------------------------------------------------------


def slow_reads(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Hold each routing decision open between reading the advisers and claiming one, so that
    simultaneous calls all read the same advisers as free."""
    real = calls.claim.advisers_now

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        time.sleep(seconds)
        return found

    monkeypatch.setattr(calls.claim, "advisers_now", slow)


def rung_phones(answers: list[str], phones: list[str]) -> list[str]:
    """The adviser phone each answer rings ('' for the answer machine)."""
    return [next((p for p in phones if p in answer), "") for answer in answers]


def new_calls(count: int) -> list[tuple[str, dict[str, str]]]:
    """`count` new calls to Herefordshire's number."""
    return [
        ("/voice/incoming", {"CallSid": f"CA{n:032d}", "From": parent(n), "To": HEREFORD})
        for n in range(100, 100 + count)
    ]


def test_twenty_calls_at_once_ring_twenty_different_advisers(
    committed: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = [f"+4477009002{n:02d}" for n in range(20)]
    with Session(committed) as setup:
        for n, phone in enumerate(phones):
            office = "herefordshire" if n % 2 else "worcestershire"
            adviser(setup, f"Adviser {n:02d}", phone, office, date(2026, 11, 30))
        setup.commit()
    slow_reads(monkeypatch, 0.3)  # every call reads all 20 as free, in the same order
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    rung = rung_phones(at_once(app, new_calls(20)), phones)
    assert sorted(rung) == sorted(phones)
    with Session(committed) as check:
        legs = check.execute(select(CallLeg.adviser_id, func.count()).group_by(CallLeg.adviser_id))
        assert sorted(count for _, count in legs) == [1] * 20


def test_more_calls_at_once_than_advisers_ring_every_free_adviser_before_any_twice(
    committed: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    phones = [ANN, BEN, CAT, DAN]
    with Session(committed) as setup:
        for n, phone in enumerate(phones):
            adviser(setup, f"Adviser {n}", phone, "herefordshire", date(2026, 11, 30))
        setup.commit()
    slow_reads(monkeypatch, 0.3)
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    rung = rung_phones(at_once(app, new_calls(20)), phones)
    # Nobody else is free, so an adviser being rung may be rung again; but never while a
    # colleague is left unrung.
    assert set(rung) == set(phones)


def test_calls_arriving_as_the_only_adviser_accepts_never_ring_her_again(
    committed: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed) as setup:
        ann = adviser(setup, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
        first = Call(
            sid="CA" + "9" * 32, to_number=HEREFORD, office="herefordshire", started_at=NOW
        )
        setup.add(first)
        setup.flush()
        leg = CallLeg(
            call_id=first.id,
            adviser_id=ann.id,
            office="herefordshire",
            state="screening",
            started_at=NOW,
            picked_up_at=NOW,
        )
        setup.add(leg)
        setup.commit()
        leg_id = leg.id
    # Every new call reads Ann as being rung elsewhere (so hers to ring when nobody else is
    # free) before her answer is stored, and claims her only once it is stored. The test looks
    # for her answer on connections of its own, leaving the app's pool to the calls.
    real = calls.claim.advisers_now
    watcher = create_engine(committed.url, poolclass=NullPool)

    def read_then_wait_for_her_answer(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        with Session(watcher) as look:
            for _ in range(500):
                if look.scalar(select(CallLeg.state).where(CallLeg.id == leg_id)) == "accepted":
                    break
                look.rollback()
                time.sleep(0.02)
        return found

    monkeypatch.setattr(calls.claim, "advisers_now", read_then_wait_for_her_answer)
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    press_1 = (f"/voice/screen-answer?leg={leg_id}", {"CallSid": "CA" + "8" * 32, "Digits": "1"})
    # As many calls as the app's pool has connections for, beside her answer: each is routed,
    # rather than some answered by the fallback for want of a connection.
    answers = at_once(app, [press_1, *new_calls(12)])
    watcher.dispose()
    assert "<Say" not in answers[0]  # she got the first call
    assert [ANN in answer for answer in answers[1:]] == [False] * 12
    assert all("<Record" in answer for answer in answers[1:])
    assert not any(wording.APOLOGY in answer for answer in answers)
    with Session(committed) as check:
        assert check.scalar(select(func.count()).select_from(CallLeg)) == 1
