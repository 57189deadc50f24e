"""Two calls arriving at the same moment on PostgreSQL never ring the same free adviser."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

import rota.service
from calls.models import CallLeg
from helpline.app import create_app, make_runtime
from helpline.db import Base, session_factory
from helpline.settings import Settings
from rota.models import Adviser
from tests.conftest import BASE_URL, HEREFORD, TOKEN
from tests.factories import adviser, signed_post

ANN, BEN = "+447700900001", "+447700900002"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def committed(engine: Engine) -> Iterator[Engine]:
    """The PostgreSQL test database with committed data, emptied again afterwards."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time, so two webhooks cannot overlap there")
    try:
        yield engine
    finally:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))


def test_two_calls_at_once_ring_two_different_advisers(
    committed: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed) as setup:
        adviser(setup, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
        adviser(setup, "Ben Birch", BEN, "herefordshire", date(2026, 11, 30))
        setup.commit()
    # Hold each routing decision open for a moment, so that the two overlap unless routing
    # takes turns.
    real_on_shift = rota.service.on_shift

    def slow_on_shift(session: Session, now: datetime):  # type: ignore[no-untyped-def]
        found = real_on_shift(session, now)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(rota.service, "on_shift", slow_on_shift)
    app = create_app(make_runtime(settings, sessions=session_factory(committed), clock=lambda: NOW))
    barrier = threading.Barrier(2, timeout=10)
    answers: list[str] = []

    def call(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        params = {"CallSid": f"CA{n:032d}", "From": f"+44770090012{n}", "To": HEREFORD}
        response = signed_post(client, "/voice/incoming", params, token=TOKEN, base_url=BASE_URL)
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
