"""What one webhook costs in CPU and SQL, measured in process (no gunicorn, no wrk).

It makes its own PostgreSQL database as benchmarks/load_webhooks.py does (40 advisers on shift,
both offices open all day; dropped afterwards), builds the app as the web process does
(HELPLINE_ENV=production, the web role's engine) and posts signed requests through Flask's test
client, one at a time:

- incoming: N /voice/incoming, a new CallSid each; legs stay open, so after the first 40 calls
            every adviser is ringing and each new call rings one of them again;
- status:   /voice/status 'completed' for each of those N calls (frees the advisers);
- mix:      N calls, each ended by its final status two requests later, so that routing claims
            free advisers (as the load benchmark's mix run does).

For each it prints the mean per request of: Python CPU ms (this process, every thread),
PostgreSQL CPU ms (the server processes serving this database, read from /proc: the server
must run on this machine), wall ms, and SQL statements. `--profile FILE` also writes a cProfile
dump of the three runs, timed by process CPU (read it with `python -m pstats FILE`). The views
run in the webhook workers, which the profile follows (threading.setprofile); the request
thread's wait for its worker then shows the worker's CPU again, so read the workers' own
functions (edge.py's `_Work.run` and below) for the views' cost.

Usage: .venv/bin/python benchmarks/profile_webhooks.py [--requests 300] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from load_webhooks import (
    BASE,
    TOKEN,
    _libpq,
    completed,
    count_statements,
    drop_database,
    incoming,
    load_rota,
    make_database,
    production_env,
)
from sqlalchemy import make_url
from twilio.request_validator import RequestValidator

from helpline import settings as settings_module
from helpline.app import create_app, database_engine, make_runtime
from helpline.db import session_factory

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def server_cpu_s(admin_url: str, db_url: str) -> float:
    """CPU seconds used so far by the server processes connected to the run's database."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                [make_url(db_url).database],
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * TICK_S  # utime, stime
    return total


@contextmanager
def profiled(profile: cProfile.Profile | None) -> Iterator[None]:
    """Profile this thread and every thread started meanwhile (the webhook workers)."""
    if profile is None:
        yield
        return
    threading.setprofile(lambda *_args: profile.enable(subcalls=True, builtins=True))
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="calls per run")
    parser.add_argument("--profile", help="write a cProfile dump of the runs to this file")
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    now = datetime.now(UTC)
    db_url = make_database(args.admin_url)
    work = Path(tempfile.mkdtemp(prefix="helpline-profile-"))
    env = production_env(db_url, work, "profile")
    # Timed by CPU, not the wall clock: on a shared machine waits say more of others than of us.
    profile = cProfile.Profile(time.process_time) if args.profile else None
    engine = None
    try:
        load_rota(db_url, now)
        settings = settings_module.load(env)
        engine = database_engine(settings, "web")
        statements = count_statements(engine)
        client = create_app(make_runtime(settings, sessions=session_factory(engine))).test_client()
        validator = RequestValidator(TOKEN)

        def post(request: tuple[str, dict[str, str]]) -> None:
            path, params = request
            signature = validator.compute_signature(BASE + path, params)
            answer = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            if answer.status_code != 200 or (b"<Dial" not in answer.data and "incoming" in path):
                raise SystemExit(f"{path} answered {answer.status_code}: {answer.data[:200]!r}")

        def run(name: str, requests: list[tuple[str, dict[str, str]]]) -> None:
            post(requests[0])  # warm: the first request pays for imports and connecting
            statements[0] = 0
            server_before = server_cpu_s(args.admin_url, db_url)
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            for request in requests[1:]:
                post(request)
            cpu = time.process_time() - cpu_before
            wall = time.perf_counter() - wall_before
            server = server_cpu_s(args.admin_url, db_url) - server_before
            n = len(requests) - 1
            print(
                f"{name:9s} {n:5d} requests: python {1000 * cpu / n:6.2f} ms  "
                f"postgresql {1000 * server / n:6.2f} ms  wall {1000 * wall / n:6.2f} ms  "
                f"statements {statements[0] / n:5.1f}",
                flush=True,
            )

        n = args.requests
        sids = [f"CA{'P' * 2}{i:030d}" for i in range(n + 1)]
        mix: list[tuple[str, dict[str, str]]] = []
        mixed = [f"CA{'M' * 2}{i:030d}" for i in range(n + 3)]
        for i, sid in enumerate(mixed):
            mix.append(incoming(sid, i))
            if i >= 2:
                mix.append(completed(mixed[i - 2]))
        with profiled(profile):
            run("incoming", [incoming(sid, i) for i, sid in enumerate(sids)])
            run("status", [completed(sid) for sid in sids])
            run("mix", mix)
        first = one_request_counts(statements, post)
        print(f"statements, a new call ringing a free adviser and its final status: {first}")
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(args.admin_url, db_url)
        shutil.rmtree(work, ignore_errors=True)
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile written to {args.profile}")
    return 0


def one_request_counts(
    statements: list[int], post: Callable[[tuple[str, dict[str, str]]], None]
) -> dict[str, int]:
    """Statements of one new call ringing a free adviser (every call so far has ended), and of
    that call's final status: the figures load_webhooks.py prints."""
    counts = {}
    sid = "CA" + "5" * 32
    for name, request in (("incoming", incoming(sid, 0)), ("status", completed(sid))):
        statements[0] = 0
        post(request)
        counts[name] = statements[0]
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
