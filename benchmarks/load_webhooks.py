"""Webhooks under load: the Procfile's web process on PostgreSQL, 40 advisers on shift.

One command: it makes its own PostgreSQL database, migrates it, loads a rota of 40 advisers on
shift (both offices open all day for the run), starts the service as in production (the
Procfile's gunicorn line, HELPLINE_ENV=production) and, beside it under the same gunicorn line,
a Flask app answering fixed TwiML. wrk (Debian's package, installed when missing) replays
pre-signed requests from 1 and then 20 clients, for each of:

- fixed:    the fixed-TwiML app (the yardstick);
- incoming: /voice/incoming, a new CallSid each request; advisers' legs stay open, so once all
            40 are ringing, each new call rings one of them again (the rule when nobody else is
            free);
- status:   /voice/status 'completed' for each call the incoming run left open (frees advisers),
            after an unmeasured incoming run has left as many again, so that no call's end is
            sent twice (any that is, once wrk has gone through its list, is counted and shown);
- mix:      each /voice/incoming followed, a few requests later, by /voice/status 'completed'
            for that call, so that advisers are freed and routing really claims them.

One round of incoming, status and mix runs from 1 client, then `--rounds` (3) from 20. The
fixed app is run before the first round of each and after every round, and each round is
compared with the mean of the fixed runs just before and after it: this machine's speed
wanders from minute to minute, and a yardstick measured once, before, would be compared with
a different machine.

It reports each run's throughput, p50, p99 and errors (non-2xx and socket errors) and each
worker's peak memory (VmHWM), checks the targets on the medians of the rounds at 20 clients
(and no error in any run, the fixed app's included) and exits 1 on any FAIL.
Usage: .venv/bin/python benchmarks/load_webhooks.py [--seconds 8] [--rounds 3] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy import Engine, event, func, insert, make_url, select
from twilio.request_validator import RequestValidator

from calls.models import Call, CallLeg
from helpline import settings as settings_module
from helpline.app import create_app, database_engine, make_runtime
from helpline.db import make_engine, session_factory
from helpline.migrate import upgrade
from rota.models import Adviser, Shift

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "load-benchmark-token"
BASE = "https://helpline.load.test"
ADVISERS = 40
NUMBERS = {"herefordshire": "+441632960001", "worcestershire": "+441632960002"}
TARGET_RATIO, TARGET_P99_MS, TARGET_MB = 0.08, 150.0, 150.0
OPEN_ALL_DAY = "\n".join(
    f'[offices.{key}]\nname = "{key.title()}"\nnumbers = ["{number}"]\n'
    f'fallback = ["{other}"]\n[offices.{key}.hours]\n'
    + "".join(
        f'{day} = ["00:00-23:59"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    for (key, number), other in zip(NUMBERS.items(), reversed(NUMBERS), strict=True)
)


@dataclass
class Result:
    """One wrk run."""

    name: str
    clients: int
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int = 0
    repeats: int = 0  # requests that repeated one already made in the run (status only)


def production_env(db_url: str, work: Path, name: str) -> dict[str, str]:
    """The environment of the service as the Procfile runs it, on `db_url`, with both offices
    open all day (a configuration file written into `work`)."""
    config = work / "offices.toml"
    config.write_text('[service]\nbank_holidays = "none"\n' + OPEN_ALL_DAY)
    return {
        "HELPLINE_ENV": "production",
        "DATABASE_URL": db_url,
        "SECRET_KEY": f"{name}-benchmark-secret-key-" + "x" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE,
        "HELPLINE_CONFIG": str(config),
        "LOG_LEVEL": "WARNING",
    }


def make_database(admin_url: str) -> str:
    """A new, migrated database next to `admin_url`'s; returns its SQLAlchemy URL."""
    url = make_url(admin_url)
    name = f"helpline_load_{os.getpid()}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    db_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(db_url)
    return db_url


def drop_database(admin_url: str, db_url: str) -> None:
    """Remove the run's database."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {make_url(db_url).database} WITH (FORCE)")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_rota(db_url: str, now: datetime) -> None:
    """40 advisers, half for each office, on shift from an hour ago for eight hours."""
    engine = make_engine(db_url)
    tz = settings_module.load({}).timezone
    start = now - timedelta(hours=1)
    with engine.begin() as conn:
        for i in range(ADVISERS):
            adviser_id = conn.execute(
                insert(Adviser).returning(Adviser.id),
                {
                    "name": f"Adviser {i:02d}",
                    "name_key": f"adviser {i:02d}",
                    "phone": f"+4477009{i:05d}",
                    "created_at": start,
                    "updated_at": start,
                    "away": False,
                },
            ).scalar_one()
            conn.execute(
                insert(Shift),
                {
                    "adviser_id": adviser_id,
                    "office": list(NUMBERS)[i % 2],
                    "day": start.astimezone(tz).date(),
                    "start": start.astimezone(tz).time().replace(microsecond=0),
                    "end": (start + timedelta(hours=8))
                    .astimezone(tz)
                    .time()
                    .replace(microsecond=0),
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=8),
                    "duty_officer": i == 0,
                },
            )
    engine.dispose()


def incoming(sid: str, n: int) -> tuple[str, dict[str, str]]:
    """A new call's first webhook."""
    to = list(NUMBERS.values())[n % 2]
    return "/voice/incoming", {"CallSid": sid, "From": f"+4477009{n % 90000 + 10000:05d}", "To": to}


def completed(sid: str) -> tuple[str, dict[str, str]]:
    """A call's final status."""
    return "/voice/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30"}


def write_requests(folder: Path, per_thread: list[list[tuple[str, dict[str, str]]]]) -> Path:
    """One file of signed requests per wrk thread, in the format load_webhooks.lua reads."""
    validator = RequestValidator(TOKEN)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number, requests in enumerate(per_thread, start=1):
        lines = []
        for path, params in requests:
            signature = validator.compute_signature(BASE + path, params)
            lines.append(f"{path}\t{signature}\t{urlencode(params)}")
        (folder / f"{number}.tsv").write_text("\n".join(lines) + "\n")
    return folder


def new_calls(
    tag: str, threads: int, count: int, lag: int
) -> list[list[tuple[str, dict[str, str]]]]:
    """Per thread: new calls, each followed `lag` requests later by its end when lag >= 0."""
    result = []
    for t in range(threads):
        sids = [f"CA{tag}{t:02d}{n:0{30 - len(tag)}d}" for n in range(count)]
        requests: list[tuple[str, dict[str, str]]] = []
        for n, sid in enumerate(sids):
            requests.append(incoming(sid, n))
            if lag >= 0 and n >= lag:
                requests.append(completed(sids[n - lag]))
        result.append(requests)
    return result


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk could not be installed")
    return found


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(app_target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """The Procfile's web line, serving `app_target`; returns the master and its port."""
    line = (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0]
    line = line.replace("'helpline.app:wsgi()'", shlex.quote(app_target))
    port = free_port()
    env = {
        **os.environ,
        **env,
        "PORT": str(port),
        "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
    }
    master = subprocess.Popen(["bash", "-c", f"exec env {line}"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(1.0)  # let every worker boot
            return master, port
        except OSError:
            time.sleep(0.1)
    master.kill()
    raise SystemExit(f"gunicorn serving {app_target} did not start")


def worker_peaks_mb(master: subprocess.Popen[bytes]) -> list[float]:
    """Each worker's peak resident memory (VmHWM), in MB."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def run_wrk(wrk: str, port: int, folder: Path, clients: int, seconds: int) -> dict[str, int]:
    """wrk's summary of one run."""
    threads = min(clients, 2)
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "benchmarks/load_webhooks.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    summary: dict[str, int] = json.loads(line.removeprefix("RESULT "))
    return summary


def result(name: str, clients: int, summary: dict[str, int]) -> Result:
    """A wrk summary in the report's units."""
    sockets = sum(summary[k] for k in ("connect", "read", "write", "timeout"))
    return Result(
        name,
        clients,
        summary["requests"] / (summary["duration_us"] / 1e6),
        summary["p50_us"] / 1000,
        summary["p99_us"] / 1000,
        summary["status"],
        sockets,
        summary["requests"],
    )


def routed(db_url: str) -> str:
    """How the calls so far were routed: legs rung, and calls that reached the answer machine."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        calls = conn.scalar(select(func.count()).select_from(Call))
        legs = conn.scalar(select(func.count()).select_from(CallLeg))
        machine = conn.scalar(
            select(func.count()).where(Call.reached_answer_machine_at.is_not(None))
        )
        open_calls = conn.scalar(select(func.count()).where(Call.ended_at.is_(None)))
    engine.dispose()
    return (
        f"{calls} calls, {legs} adviser legs rung, {machine} at the answer machine, "
        f"{open_calls} still open"
    )


def count_statements(engine: Engine) -> list[int]:
    """A counter of the statements sent to the database, each a round trip, whether through
    SQLAlchemy or straight through psycopg (`helpline.driver`); statements sent together in one
    round trip (a SAVEPOINT with the statement after it) count once, and the transaction's
    BEGIN and COMMIT are not counted, nor commands sent past the cursor
    (`helpline.driver.run_commands`: a failed claim's undo, which the requests counted here
    never need). Its one item counts up. Patches psycopg's cursors for the
    rest of this process; `engine` is the one whose connections are counted."""
    count = [0]
    execute = psycopg.Cursor.execute
    counted_drivers = set()

    @event.listens_for(engine, "connect")
    def _counted(dbapi_connection: Any, _record: Any) -> None:
        counted_drivers.add(id(dbapi_connection))

    def counted(self: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        if id(self.connection) in counted_drivers:
            count[0] += 1
        return execute(self, *args, **kwargs)

    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    return count


def statements_per_request(env: dict[str, str]) -> dict[str, int]:
    """SQL statements one request makes, in process on the run's database and settings: a new
    call ringing a free adviser, and that call's final status."""
    settings = settings_module.load(env)
    engine = database_engine(settings, "web")
    count = count_statements(engine)
    client = create_app(make_runtime(settings, sessions=session_factory(engine))).test_client()
    validator = RequestValidator(TOKEN)
    counts = {}
    for name, (path, params) in (
        ("incoming", incoming("CA" + "5" * 32, 0)),
        ("status", completed("CA" + "5" * 32)),
    ):
        count[0] = 0
        signature = validator.compute_signature(BASE + path, params)
        answer = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code
        counts[name] = count[0]
    engine.dispose()
    return counts


def open_call_sids(db_url: str) -> list[str]:
    """Calls not yet ended."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        sids = list(conn.scalars(select(Call.sid).where(Call.ended_at.is_(None)).order_by(Call.id)))
    engine.dispose()
    return sids


def run_round(
    wrk: str,
    db_url: str,
    work: Path,
    ports: dict[str, int],
    clients: int,
    tag: str,
    seconds: int,
) -> dict[str, Result]:
    """One round of the webhook runs (incoming, status, mix) from `clients` clients; `tag`
    keeps the round's CallSids apart from every other round's."""
    threads = min(clients, 2)
    per_thread = seconds * 2500
    port = ports["helpline"]
    runs = {}

    def measure(name: str, plan: list[list[tuple[str, dict[str, str]]]]) -> None:
        folder = write_requests(work / name, plan)
        runs[name] = result(name, clients, run_wrk(wrk, port, folder, clients, seconds))
        print(f"  {name} x{clients}: {runs[name].rate:.0f}/s   ({routed(db_url)})", flush=True)

    measure("incoming", new_calls("I" + tag, threads, per_thread, -1))
    # As many calls again left open, unmeasured, so that the status run ends each call once
    # however fast it goes: wrk starts its list again when it runs out, and a repeat (a
    # status already applied) costs less than a call's end.
    more = write_requests(work / "more", new_calls("P" + tag, threads, per_thread, -1))
    run_wrk(wrk, port, more, clients, seconds)
    sids = open_call_sids(db_url)
    measure(
        "status",
        [
            [completed(sid) for sid in sids[t::threads]] or [completed("CA" + "0" * 32)]
            for t in range(threads)
        ],
    )
    runs["status"].repeats = max(0, runs["status"].requests - len(sids))
    measure("mix", new_calls("M" + tag, threads, per_thread, max(1, clients // threads)))
    return runs


def run_fixed(wrk: str, work: Path, port: int, clients: int, seconds: int) -> Result:
    """The yardstick: the fixed-TwiML app from `clients` clients."""
    threads = min(clients, 2)
    folder = write_requests(work / "fixed", new_calls("F", threads, seconds * 2500, -1))
    fixed = result("fixed", clients, run_wrk(wrk, port, folder, clients, seconds))
    print(f"  fixed x{clients}: {fixed.rate:.0f}/s", flush=True)
    return fixed


@dataclass
class Round:
    """The webhook runs of one round, between the yardstick's runs just before and after."""

    clients: int
    runs: dict[str, Result]
    fixed_before: Result
    fixed_after: Result

    @property
    def fixed_rate(self) -> float:
        """The fixed endpoint's throughput around the round: the machine's speed then."""
        return (self.fixed_before.rate + self.fixed_after.rate) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds at 20 clients (the targets take medians)"
    )
    parser.add_argument(
        "--admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL database on the server to use; the run makes its own next to it",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    now = datetime.now(UTC)
    db_url = make_database(args.admin_url)
    work = Path(tempfile.mkdtemp(prefix="helpline-load-"))
    env = production_env(db_url, work, "load")
    rounds: list[Round] = []
    servers = []
    try:
        load_rota(db_url, now)
        statements = statements_per_request(env)
        print(f"SQL statements sent per request: {statements}", flush=True)
        helpline, helpline_port = start_gunicorn("helpline.app:wsgi()", env)
        servers.append(helpline)
        fixed, fixed_port = start_gunicorn("benchmarks.fixed_twiml:wsgi()", env)
        servers.append(fixed)
        ports = {"helpline": helpline_port, "fixed": fixed_port}
        for clients, count in ((1, 1), (20, args.rounds)):
            before = run_fixed(wrk, work, fixed_port, clients, args.seconds)
            for n in range(count):
                tag = f"{clients:02d}{n}"
                runs = run_round(wrk, db_url, work, ports, clients, tag, args.seconds)
                after = run_fixed(wrk, work, fixed_port, clients, args.seconds)
                rounds.append(Round(clients, runs, before, after))
                before = after
        peaks = {"helpline": worker_peaks_mb(helpline), "fixed": worker_peaks_mb(fixed)}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        drop_database(args.admin_url, db_url)
        shutil.rmtree(work, ignore_errors=True)
    return report(rounds, peaks, args.seconds)


def report(rounds: list[Round], peaks: dict[str, list[float]], seconds: int) -> int:
    """Print each round and the targets, checked on the medians of the rounds at 20 clients;
    0 when every target holds."""
    print(f"\n{seconds} s per run, {os.cpu_count()} cores, 40 advisers on shift")
    print(
        f"{'run':>10} {'clients':>7} {'round':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'socket':>7} {'vs fixed':>9}"
    )
    numbers: dict[int, int] = {}
    for r in rounds:
        number = numbers[r.clients] = numbers.get(r.clients, 0) + 1
        print(
            f"{'fixed':>10} {r.clients:>7} {number:>5} {r.fixed_rate:>8.0f} "
            f"{'':>8} {'':>8} {'':>8} {'':>7} {'':>9}   "
            f"(mean of {r.fixed_before.rate:.0f} before and {r.fixed_after.rate:.0f} after)"
        )
        for x in r.runs.values():
            print(
                f"{x.name:>10} {x.clients:>7} {number:>5} {x.rate:>8.0f} {x.p50_ms:>8.1f} "
                f"{x.p99_ms:>8.1f} {x.non_2xx:>8} {x.socket_errors:>7} "
                f"{x.rate / r.fixed_rate:>8.3f}x"
                + (f"   ({x.repeats} of {x.requests} repeated)" if x.repeats else "")
            )
    for name, values in peaks.items():
        print(f"{name} workers' peak memory (VmHWM): " + ", ".join(f"{v:.0f} MB" for v in values))
    loaded = [r for r in rounds if r.clients == 20]
    failed = False
    print(f"\nTargets at 20 clients (medians of {len(loaded)} rounds):")
    for name in ("incoming", "status", "mix"):
        ratio = statistics.median(r.runs[name].rate / r.fixed_rate for r in loaded)
        p99 = statistics.median(r.runs[name].p99_ms for r in loaded)
        errors = sum(r.runs[name].non_2xx + r.runs[name].socket_errors for r in rounds)
        checks = [
            (f"{ratio:.3f}x the fixed endpoint (>= {TARGET_RATIO}x)", ratio >= TARGET_RATIO),
            (f"p99 {p99:.0f} ms (< {TARGET_P99_MS:.0f} ms)", p99 < TARGET_P99_MS),
            (f"{errors} errors in all its runs, from 1 and 20 clients (none)", errors == 0),
        ]
        for text, ok in checks:
            failed |= not ok
            print(f"  {'PASS' if ok else 'FAIL'} {name}: {text}")
    yardstick = [x for r in rounds for x in (r.fixed_before, r.fixed_after)]
    errors = sum(x.non_2xx + x.socket_errors for x in yardstick)
    ok = errors == 0
    failed |= not ok
    print(f"  {'PASS' if ok else 'FAIL'} fixed: {errors} errors in all its runs (none)")
    worst = max(peaks["helpline"])
    ok = worst < TARGET_MB
    failed |= not ok
    print(
        f"  {'PASS' if ok else 'FAIL'} memory: largest worker peak {worst:.0f} MB "
        f"(< {TARGET_MB:.0f} MB)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
