"""How long `helpline stats` takes over a year of a million calls, on PostgreSQL.

Makes a database of its own (dropped at the end), migrates it, and loads a year of history in
SQL (generate_series, no ORM): both counties, calls mostly in office hours on weekdays, every
outcome in a realistic share, each adviser's legs, and callbacks with their attempts. It then
times, in the same run:
  - the figures for the year as `helpline stats` makes them (in this process, best of 3);
  - one hand-written aggregate over the same calls (calls by county and outcome, best of 3);
  - the `helpline stats --json` command itself, a separate process, with its peak memory.
It prints them and the ratio, and exits 1 if the figures miss the targets: under 1 s, within
2x the hand-written aggregate, under 200 MB.

Usage: .venv/bin/python benchmarks/stats_year.py [--calls N] [--keep]
  HELPLINE_BENCH_DATABASE_URL names the server (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from helpline import settings as settings_module
from helpline.db import make_engine, normalise_url, session_factory
from helpline.migrate import upgrade
from helpline.statistics.figures import collect
from helpline.statistics.report import as_json

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST, LAST = date(2025, 12, 1), date(2026, 11, 30)  # a year of local dates, from a Monday
LIMIT_S, LIMIT_RATIO, LIMIT_MB = 1.0, 2.0, 200
HELPLINE = Path(sys.executable).with_name("helpline")

LOAD = [
    "SELECT setseed(0.42)",
    # Twenty advisers, ten a county, each on shift 09:00-17:00 on every weekday of the year.
    """INSERT INTO adviser (id, name, name_key, phone, created_at, updated_at)
       SELECT a, 'Adviser ' || a, 'adviser ' || a, '+4477009001' || lpad(a::text, 2, '0'),
              '2025-11-01', '2025-11-01' FROM generate_series(1, 20) a""",
    """INSERT INTO shift (adviser_id, office, day, start, "end", starts_at, ends_at, duty_officer)
       SELECT a, CASE WHEN a <= 10 THEN 'herefordshire' ELSE 'worcestershire' END, d::date,
              '09:00', '17:00', (d::date + time '09:00') AT TIME ZONE 'Europe/London',
              (d::date + time '17:00') AT TIME ZONE 'Europe/London', a IN (1, 11)
       FROM generate_series(1, 20) a,
            generate_series(date '2025-12-01', date '2026-11-30', interval '1 day') d
       WHERE extract(isodow FROM d) < 6""",
    # The plan of each call: 92% in office hours on a weekday, the rest at any time.
    """CREATE UNLOGGED TABLE bench_plan AS
       SELECT g, r_office < 0.55 AS hereford, r_outcome AS r, wait, talk,
              1 + floor(random() * 10)::int AS pick,
              CASE WHEN r_when < 0.92 THEN
                (date '2025-12-01' + ((w / 5) * 7 + w % 5) + time '09:00'
                 + make_interval(secs => floor(random() * 8 * 3600)))
                 AT TIME ZONE 'Europe/London'
              ELSE timestamptz '2025-12-01 00:00+00' + make_interval(secs => random() * 364 * 86400)
              END AS started
       FROM (SELECT g, random() AS r_office, random() AS r_outcome, random() AS r_when,
                    floor(random() * 261)::int AS w, 3 + floor(random() * 60)::int AS wait,
                    60 + floor(random() * 900)::int AS talk
             FROM generate_series(1, :calls) g) p""",
    # Outcomes: answered 55%, by the partner 10%, voicemail 15%, missed 7%, callback
    # requested 3%, abandoned 10%; the last hundred calls are still going on. Nobody is on
    # shift outside 09:00-17:00 on weekdays, so a call then is never answered live: it goes
    # to the machine, is missed or abandoned, in the same proportions among themselves.
    """UPDATE bench_plan SET r = 0.65 + r * 0.35
       WHERE extract(isodow FROM started AT TIME ZONE 'Europe/London') > 5
          OR extract(hour FROM started AT TIME ZONE 'Europe/London') NOT BETWEEN 9 AND 16""",
    """UPDATE bench_plan SET r = 2 WHERE g > :calls - 100""",
    """INSERT INTO call (id, sid, from_number, to_number, office, status, outcome,
                         answered_by_id, answered_office, started_at, answered_at,
                         reached_answer_machine_at, callback_requested_at, message_left,
                         ended_at, duration_s, local_date, week_hour, adviser_rung, talk_s)
       SELECT g, 'CA' || lpad(g::text, 32, '0'), '+447700900' || lpad((g % 1000)::text, 3, '0'),
              CASE WHEN hereford THEN '+441632960001' ELSE '+441632960002' END,
              CASE WHEN hereford THEN 'herefordshire' ELSE 'worcestershire' END,
              CASE WHEN r > 1 THEN 'in-progress' ELSE 'completed' END,
              CASE WHEN r < 0.55 THEN 'answered' WHEN r < 0.65 THEN 'answered_by_partner'
                   WHEN r < 0.80 THEN 'voicemail' WHEN r < 0.87 THEN 'missed'
                   WHEN r < 0.90 THEN 'callback_requested' WHEN r <= 1 THEN 'abandoned' END,
              CASE WHEN r < 0.65 THEN a END, CASE WHEN r < 0.65 THEN a_office END,
              started,
              CASE WHEN r < 0.65 THEN started + make_interval(secs => wait) END,
              CASE WHEN r >= 0.65 AND r < 0.87 THEN started + make_interval(secs => wait * 2) END,
              CASE WHEN r >= 0.87 AND r < 0.90 THEN started + make_interval(secs => wait) END,
              r >= 0.65 AND r < 0.80,
              CASE WHEN r <= 1 THEN started + make_interval(secs => wait + talk) END,
              CASE WHEN r <= 1 THEN wait + talk END,
              local::date,
              (extract(isodow FROM local)::int - 1) * 24 + extract(hour FROM local)::int,
              -- as the legs below: the answering adviser, or one rung in vain for most calls
              -- that went to the machine after waiting
              r <= 1 AND (r < 0.65 OR (r >= 0.65 AND r < 0.87 OR r >= 0.90) AND g % 10 < 7),
              CASE WHEN r < 0.65 THEN talk END
       FROM (SELECT *, started AT TIME ZONE 'Europe/London' AS local,
                    CASE WHEN (r < 0.55) = hereford THEN pick ELSE pick + 10 END AS a,
                    CASE WHEN (r < 0.55) = hereford THEN 'herefordshire' ELSE 'worcestershire'
                    END AS a_office
             FROM bench_plan) p""",
    # Legs: the adviser who answered; for 30% of calls another adviser rung first; and one
    # unanswered leg for most calls that went to the machine after waiting.
    """INSERT INTO call_leg (call_id, adviser_id, office, state, started_at, picked_up_at,
                             accepted_at, ended_at)
       SELECT id, answered_by_id, answered_office, 'completed', started_at,
              answered_at - interval '3 s', answered_at, ended_at
       FROM call WHERE answered_by_id IS NOT NULL""",
    """INSERT INTO call_leg (call_id, adviser_id, office, state, started_at, ended_at)
       SELECT id, 1 + (id % 20),
              CASE WHEN id % 20 < 10 THEN 'herefordshire' ELSE 'worcestershire' END, 'no-answer',
              started_at, started_at + interval '20 s'
       FROM call WHERE (answered_by_id IS NOT NULL AND id % 10 < 3)
          OR (outcome IN ('voicemail', 'missed', 'abandoned') AND id % 10 < 7)""",
    # A callback for each message: completed 70%, unreachable 15%, cancelled 5%, open 10%.
    """INSERT INTO callback (id, phone, office, status, due_at, created_at, closed_at, version)
       SELECT id, NULL, office,
              CASE WHEN id % 20 < 14 THEN 'completed' WHEN id % 20 < 17 THEN 'unreachable'
                   WHEN id % 20 < 18 THEN 'cancelled' WHEN id % 20 < 19 THEN 'open'
                   ELSE 'assigned' END,
              ended_at + interval '2 days', ended_at,
              CASE WHEN id % 20 < 18 THEN ended_at + interval '1 day' END, 1
       FROM call WHERE message_left""",
    """INSERT INTO message (recording_sid, call_id, call_sid, office, duration_s, received_at,
                            callback_id)
       SELECT 'RE' || lpad(c.id::text, 32, '0'), c.id, c.sid, c.office, 40, c.ended_at, c.id
       FROM call c WHERE c.message_left""",
    # Attempts: one to three each, on the working days after the message, in the calling
    # adviser's shift (one in thirty in the evening, off shift); the last one spoke for
    # completed callbacks.
    """INSERT INTO attempt (callback_id, adviser_id, office, team, started_at, ended_at, placed,
                            outcome, outcome_source, parent_seconds)
       SELECT id, 1 + ((id + n) % 20), office,
              CASE WHEN (id + n) % 20 < 10 THEN 'herefordshire' ELSE 'worcestershire' END,
              at, at + interval '5 minutes', true,
              CASE WHEN status = 'completed' AND n = id % 3 THEN 'spoke'
                   WHEN status = 'unreachable' AND n = id % 3 THEN 'wrong-number'
                   ELSE 'no-answer' END,
              'adviser', CASE WHEN status = 'completed' AND n = id % 3 THEN 240 END
       FROM (SELECT cb.id, cb.status, cb.office, n,
                    ((day + CASE extract(isodow FROM day) WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END)
                     + CASE WHEN cb.id % 30 = 0 THEN time '18:30'
                            ELSE time '09:15' + make_interval(mins => (cb.id * 7 + n) % 450) END)
                    AT TIME ZONE 'Europe/London' AS at
             FROM callback cb, generate_series(0, 2) n,
                  LATERAL (SELECT (cb.created_at AT TIME ZONE 'Europe/London')::date + 1 + n * 2
                           AS day) d
             WHERE n <= cb.id % 3 AND cb.status <> 'cancelled') a""",
    # When the first attempt placed started, as the service keeps it on the callback.
    """UPDATE callback c SET first_attempt_at = a.first
       FROM (SELECT callback_id, min(started_at) AS first FROM attempt WHERE placed
             GROUP BY callback_id) a
       WHERE a.callback_id = c.id""",
    "DROP TABLE bench_plan",
    "SELECT setval('call_id_seq', (SELECT max(id) FROM call))",
    "SELECT setval('callback_id_seq', (SELECT max(id) FROM callback))",
    "SELECT setval('adviser_id_seq', 20)",
]

HAND_WRITTEN = """
    SELECT office, outcome, count(*),
           sum(CASE WHEN answered_at - started_at <= interval '20 s' THEN 1 ELSE 0 END),
           avg(extract(epoch FROM answered_at - started_at))
    FROM call
    WHERE started_at >= (date '2025-12-01')::timestamp AT TIME ZONE 'Europe/London'
      AND started_at < (date '2026-12-01')::timestamp AT TIME ZONE 'Europe/London'
    GROUP BY office, outcome
"""


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings of `work`, in seconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def load(engine: Engine, calls: int) -> dict[str, int]:
    """Fill the database; the row counts of the main tables."""
    with engine.begin() as conn:
        for statement in LOAD:
            conn.execute(text(statement), {"calls": calls} if ":calls" in statement else {})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("call", "call_leg", "callback", "attempt", "shift")
        }


def run(calls: int, keep: bool) -> int:
    admin_url = normalise_url(os.environ.get("HELPLINE_BENCH_DATABASE_URL", ADMIN))
    name = f"helpline_bench_stats_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = make_engine(url)
        began = time.perf_counter()
        counts = load(engine, calls)
        print(
            f"loaded in {time.perf_counter() - began:.1f} s: "
            + ", ".join(f"{n:,} {t}" for t, n in counts.items())
        )
        settings = settings_module.load({"DATABASE_URL": url})
        sessions = session_factory(engine)

        def figures() -> object:
            with sessions() as session:
                return as_json(collect(session, settings, FIRST, LAST))

        def hand_written() -> object:
            with engine.connect() as conn:
                return conn.execute(text(HAND_WRITTEN)).all()

        # Taken in turns, so that both see the same load on the machine.
        rounds = [(best_of(1, figures), best_of(1, hand_written)) for _ in range(3)]
        ours = min(o for o, _ in rounds)
        theirs = min(t for _, t in rounds)
        command = [str(HELPLINE), "stats", "--from", str(FIRST), "--to", str(LAST), "--json"]
        env = {**os.environ, "DATABASE_URL": url}
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        engine.dispose()
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        ratio = ours / theirs
        checks = [
            (
                "figures for the year, best of 3",
                f"{ours * 1000:.0f} ms",
                ours < LIMIT_S,
                f"under {LIMIT_S * 1000:.0f} ms",
            ),
            ("hand-written aggregate, best of 3", f"{theirs * 1000:.0f} ms", None, ""),
            (
                "figures / hand-written",
                f"{ratio:.2f}x",
                ratio <= LIMIT_RATIO,
                f"at most {LIMIT_RATIO:g}x",
            ),
            ("`helpline stats --json`, wall", f"{wall * 1000:.0f} ms", None, "start-up included"),
            (
                "`helpline stats --json`, peak memory",
                f"{peak_mb:.0f} MB",
                peak_mb < LIMIT_MB,
                f"under {LIMIT_MB} MB",
            ),
        ]
        for label, value, passed, limit in checks:
            verdict = "" if passed is None else ("PASS" if passed else "FAIL")
            print(f"{label:<38} {value:>9}  {verdict:<4}  {limit}")
        ok = all(passed is not False for _, _, passed, _ in checks)
        print("PASS: within every target" if ok else "FAIL: a target was missed")
        return 0 if ok else 1
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        else:
            print(f"kept database {name}")
        admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="leave the database for a look")
    args = parser.parse_args()
    sys.exit(run(args.calls, args.keep))
