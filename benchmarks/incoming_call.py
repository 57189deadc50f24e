"""How long /voice/incoming takes to answer, with an empty call log and with a year's history.

Twilio waits at most 15 s for TwiML; a webhook should answer in milliseconds whatever the size of
the call log. This prints the median and 95th percentile for both, and fails (exit 1) if a year
of history makes the answer more than 3 times slower than the empty baseline measured in the same
run. Usage: .venv/bin/python benchmarks/incoming_call.py   (each pass on a fresh SQLite file)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from twilio.request_validator import RequestValidator

from calls.models import Call, CallEvent, CallLeg
from helpline import settings as settings_module
from helpline.app import create_app, make_runtime
from helpline.db import make_engine, session_factory
from helpline.migrate import upgrade
from rota.calendar import local_instant
from rota.models import Adviser, Shift

TOKEN = "bench-token"
BASE = "https://helpline.example.test"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
HISTORY_CALLS = 40_000
RUNS = 200
LIMIT = 3.0


def seed_rota(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        for i in range(12):
            office = "herefordshire" if i % 2 else "worcestershire"
            adviser = Adviser(
                name=f"Adviser {i}",
                name_key=f"adviser {i}",
                phone=f"+4477009001{i:02d}",
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(adviser)
            s.flush()
            day = date(2026, 11, 30)
            s.add(
                Shift(
                    adviser_id=adviser.id,
                    office=office,
                    day=day,
                    start=datetime.min.time().replace(hour=9),
                    end=datetime.min.time().replace(hour=17),
                    starts_at=local_instant(
                        day, datetime.min.time().replace(hour=9), settings_module.load({}).timezone
                    ),
                    ends_at=NOW + timedelta(hours=7),
                    duty_officer=False,
                )
            )
        s.commit()


def seed_history(engine) -> None:  # type: ignore[no-untyped-def]
    start = NOW - timedelta(days=365)
    calls, legs, events = [], [], []
    for i in range(HISTORY_CALLS):
        at = start + timedelta(minutes=13 * i)
        calls.append(
            {
                "id": i + 1,
                "sid": f"CAhist{i:026d}",
                "from_number": "+447700900999",
                "to_number": "+441632960001",
                "office": "herefordshire",
                "status": "completed",
                "outcome": "answered",
                "started_at": at,
                "ended_at": at + timedelta(minutes=9),
                "message_left": False,
                "number_tries": 0,
            }
        )
        for j in range(2):
            legs.append(
                {
                    "call_id": i + 1,
                    "adviser_id": 1 + (i + j) % 12,
                    "office": "herefordshire",
                    "state": "no-answer" if j == 0 else "completed",
                    "started_at": at,
                    "ended_at": at,
                }
            )
        for kind in ("incoming", "status", "leg-ringing", "leg-accepted"):
            events.append(
                {
                    "call_sid": f"CAhist{i:026d}",
                    "kind": kind,
                    "at": at,
                    "detail": {},
                    "key": f"{kind}:{i}",
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Call), calls)
        conn.execute(insert(CallLeg), legs)
        conn.execute(insert(CallEvent), events)


def measure(app) -> list[float]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    validator = RequestValidator(TOKEN)
    timings = []
    for i in range(RUNS):
        params = {
            "CallSid": f"CAbench{time.time_ns():025d}{i}",
            "From": "+447700900123",
            "To": "+441632960001",
            "CallStatus": "ringing",
        }
        signature = validator.compute_signature(BASE + "/voice/incoming", params)
        started = time.perf_counter()
        response = client.post(
            "/voice/incoming", data=params, headers={"X-Twilio-Signature": signature}
        )
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200 and b"<Dial" in response.data
    return timings


def run() -> int:
    results = {}
    for label, history in (("empty call log", False), (f"{HISTORY_CALLS:,} calls", True)):
        folder = tempfile.mkdtemp()
        db_url = f"sqlite:///{folder}/bench.sqlite3"
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = session_factory(engine)
        settings = settings_module.load(
            {
                "TWILIO_AUTH_TOKEN": TOKEN,
                "PUBLIC_BASE_URL": BASE,
                "DATABASE_URL": db_url,
                "LOG_LEVEL": "WARNING",
            }
        )
        seed_rota(sessions)
        if history:
            seed_history(engine)
        app = create_app(make_runtime(settings, sessions=sessions, clock=lambda: NOW))
        timings = measure(app)
        results[label] = timings
        median = statistics.median(timings) * 1000
        p95 = statistics.quantiles(timings, n=20)[-1] * 1000
        print(f"{label:>16}: median {median:6.2f} ms   p95 {p95:6.2f} ms   ({RUNS} calls)")
        engine.dispose()
    base, big = (statistics.median(t) for t in results.values())
    ratio = big / base
    print(f"history / baseline: {ratio:.2f}x (limit {LIMIT}x)")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(run())
