"""Faults under load: PostgreSQL restarted, and a web worker killed in the middle of requests,
while callers ring. Every caller still hears valid TwiML, the service's or, when the service
drops the request, the fallback bin of deploy/ that the README has each number play; and every
message left reaches the queue exactly once, through the webhooks or the reconcile-recordings
job.

The test runs a PostgreSQL server of its own (initdb in a temporary folder, on a free port), so
that restarting it disturbs nobody, migrates it with the Procfile's release line and starts the
Procfile's web line (gunicorn, two workers) as in production. Nobody is on shift, so every
caller goes to the answer machine and leaves a message. A stand-in for Twilio rings from several
threads, follows each answer as Twilio would, and keeps every recording made in its account;
afterwards the reconcile-recordings job runs against that account, its REST API answered by
`responses`.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import responses
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from callbacks.job_results import Reconciled
from callbacks.models import Message
from callbacks.report import list_callbacks
from helpline.app import database_engine, make_runtime
from helpline.db import session_factory, unit_of_work
from helpline.scheduler import run_job
from tests.conftest import PG_URL_VAR
from tests.constants import ACCOUNT, API, BASE_URL, HEREFORD, RECORDINGS_URL, TOKEN, WORCS, parent
from tests.db.jobs.helpers import inbound_call, recording, recordings_page
from tests.factories import make_settings
from tests.process.test_production import BIN, ROOT, free_port, procfile
from webhooks.twilio_dialer import TwilioDialer
from webhooks.wording import APOLOGY

pytestmark = pytest.mark.postgres

FALLBACK_BIN = ROOT / "deploy/twilio-fallback.xml"
THANKS_BIN = ROOT / "deploy/twilio-thanks.xml"
TWILIO_WAITS_S = 15.0  # then Twilio gives up on the service and plays the fallback bin
WORKERS = 2
THREADS = 4
MIN_CALLERS = 40
PAUSE_S = 0.2  # between one caller's call and the next on each thread
WAIT_S = 90.0  # the longest the test waits for anything, on a loaded machine
CALLER_DIGITS = "7700900"  # in every caller's number (tests.constants.parent), in any format


def wait_for(what: str, condition: Callable[[], object], log: Callable[[], str] = str) -> Any:
    """Poll `condition` until it gives something true; fail naming `what` (and showing the
    `log`) if it never does."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up after {WAIT_S:.0f} s waiting for {what}\n{log()}")


# PostgreSQL of the test's own.


def postgres_programs() -> Path | None:
    """The folder of the newest installed PostgreSQL's initdb and pg_ctl, if any."""
    found = [
        p.parent
        for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
        if (p.parent / "initdb").exists()
    ]
    found.sort(key=lambda folder: int(re.sub(r"\D", "", folder.parent.name) or 0))
    return found[-1] if found else None


class PrivatePostgres:
    """A PostgreSQL cluster in a folder of its own, on 127.0.0.1:`port`, trusting local users.
    initdb refuses to run as root: then the server runs as the `postgres` user."""

    def __init__(self, programs: Path, folder: Path, port: int) -> None:
        self.programs = programs
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self.libpq = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def run(self, program: str, *args: str) -> None:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own programs
            [*self.as_owner, str(self.programs / program), *args],
            cwd=self.folder,  # a folder the server's user may read
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )
        assert done.returncode == 0, f"{program} failed:\n{done.stdout}\n{done.stderr}"

    def pg_ctl(self, action: str, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        self.run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-o", options, *args)

    def create(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        self.pg_ctl("start", "-w", "-t", str(int(WAIT_S)))

    def restart(self) -> None:
        """A fast restart: every session is ended, then the server is back."""
        self.pg_ctl("restart", "-m", "fast", "-w", "-t", str(int(WAIT_S)))

    def stop(self) -> None:
        subprocess.run(  # noqa: S603 - PostgreSQL's own program
            [*self.as_owner, str(self.programs / "pg_ctl"), "stop", "-D", str(self.data),
             "-m", "immediate"],
            cwd=self.folder,
            capture_output=True,
            timeout=WAIT_S,
            check=False,
        )  # fmt: skip

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.libpq, connect_timeout=5)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    if not os.environ.get(PG_URL_VAR):
        pytest.skip(f"PostgreSQL tests skipped: set {PG_URL_VAR} to run them")
    programs = postgres_programs()
    if programs is None:
        pytest.skip(
            "the fault test runs a PostgreSQL server of its own, to restart it, and needs "
            "PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin), which are not installed"
        )
    # A short path in /tmp: the server's socket lives there, and as root the `postgres` user
    # (who runs the server) must be able to reach it, which pytest's folders do not allow.
    folder = Path(tempfile.mkdtemp(prefix="helpline-faults-", dir="/tmp"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root, the fault test's PostgreSQL needs a `postgres` user")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(programs, folder, free_port())
    try:
        server.create()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# The Procfile's processes.


def procfile_env(tmp_path: Path, database_url: str, **more: str) -> dict[str, str]:
    """The environment a platform would give the Procfile's processes for this run."""
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fault-test-secret-key-" + "x" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        **more,
    }


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


@dataclass
class Web:
    """The Procfile's web line, running."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def master(self) -> int:
        """gunicorn's master: the shell's own process when it ran the line with exec."""
        command = Path(f"/proc/{self.process.pid}/cmdline").read_bytes()
        if b"gunicorn" in command:
            return self.process.pid
        [master] = children(self.process.pid)
        return master

    def workers(self) -> list[int]:
        return children(self.master())

    def answers(self) -> bool:
        try:
            with http_opener.open(f"http://127.0.0.1:{self.port}/", timeout=5) as response:
                return int(response.status) == 200
        except (OSError, http.client.HTTPException):
            return False

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def web(postgres: PrivatePostgres, tmp_path: Path) -> Iterator[Web]:
    env = procfile_env(tmp_path, postgres.url)
    release = subprocess.run(  # noqa: S603 - the Procfile's own line
        ["/bin/bash", "-c", procfile()["release"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the Procfile's own line
            ["/bin/bash", "-c", procfile()["web"]],
            cwd=tmp_path,
            env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(WORKERS)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Web(process, port, log)
    try:
        wait_for("the web process to answer", server.answers, server.output)
        wait_for(f"{WORKERS} web workers", lambda: len(server.workers()) == WORKERS, server.output)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


# Twilio, as the callers' side of the service sees it.


http_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Answer:
    """What one webhook request got: a status and a body, or how it failed."""

    path: str
    started: float
    ended: float
    status: int | None = None  # None: no HTTP answer at all
    body: str = ""
    failure: str | None = None  # "dropped" or "timeout" when there was no HTTP answer

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Recorded:
    """A message left, as Twilio's account holds it."""

    sid: str
    call_sid: str
    created: datetime


def twiml(answer: Answer) -> ET.Element:
    """The TwiML of a 2xx answer, which must be well formed, in a <Response>."""
    root = ET.fromstring(answer.body)
    assert root.tag == "Response", answer.body
    return root


def bin_twiml(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "Response"
    return root


def part_of(url: str) -> str:
    """The path and query of one of the service's own absolute URLs."""
    assert url.startswith(BASE_URL + "/"), url
    return url[len(BASE_URL) :]


@dataclass
class FakeTwilio:
    """Rings the service as Twilio would, and keeps the account's calls and recordings."""

    port: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: dict[str, tuple[str, str]] = field(default_factory=dict)  # sid: (from, to)
    recordings: list[Recorded] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    heard: dict[int, tuple[float, str]] = field(default_factory=dict)  # caller: (ended, what)
    problems: list[str] = field(default_factory=list)

    def post(self, path: str, params: dict[str, str]) -> Answer:
        """A signed webhook request, with Twilio's patience."""
        signature = RequestValidator(TOKEN).compute_signature(BASE_URL + path, params)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature},
        )
        answer = Answer(path.split("?")[0], time.monotonic(), 0.0)
        try:
            with http_opener.open(request, timeout=TWILIO_WAITS_S) as response:
                answer.status = int(response.status)
                answer.body = response.read().decode()
        except urllib.error.HTTPError as exc:
            answer.status = exc.code
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            answer.failure = "timeout" if isinstance(reason, TimeoutError) else "dropped"
        answer.ended = time.monotonic()
        with self.lock:
            self.answers.append(answer)
        return answer

    def ring(self, n: int) -> None:
        """Caller n rings, hears what the service (or the fallback bin) says, leaves a
        message, and hangs up."""
        try:
            self._ring(n)
        except Exception as exc:  # reported by the test, naming the caller
            with self.lock:
                self.problems.append(f"caller {n}: {type(exc).__name__}: {exc}")

    def _ring(self, n: int) -> None:
        sid, caller, to = f"CA{n:032x}", parent(n), (HEREFORD, WORCS)[n % 2]
        with self.lock:
            self.calls[sid] = (caller, to)
        call = {"AccountSid": ACCOUNT, "CallSid": sid, "From": caller, "To": to}
        answer = self.post("/voice/incoming", {**call, "CallStatus": "ringing"})
        if answer.ok:
            root = twiml(answer)
            record = root.find("Record")
            taken = f"nobody is on shift, yet no message was taken: {answer.body}"
            assert record is not None, taken
            heard = "apology" if APOLOGY in answer.body else "answer machine"
            self._leave_message(n, call, record.attrib)
        else:
            # Twilio plays the number's fallback bin: its message reaches no webhook.
            heard = "fallback bin"
            record = bin_twiml(FALLBACK_BIN).find("Record")
            assert record is not None
            self._made_recording(n, sid)
            assert bin_twiml(THANKS_BIN).find("Hangup") is not None
        self.post("/voice/status", {**call, "CallStatus": "completed", "CallDuration": "45"})
        with self.lock:
            self.heard[n] = (time.monotonic(), heard)

    def _made_recording(self, n: int, call_sid: str) -> Recorded:
        made = Recorded(f"RE{n:032x}", call_sid, datetime.now(UTC).replace(microsecond=0))
        with self.lock:
            self.recordings.append(made)
        return made

    def _leave_message(self, n: int, call: dict[str, str], record: dict[str, str]) -> None:
        """The message is recorded; Twilio then asks the <Record>'s action what to play and,
        at the same moment, reports the recording to its status callback."""
        made = self._made_recording(n, call["CallSid"])
        about = {
            "RecordingSid": made.sid,
            "RecordingUrl": f"{API}/Recordings/{made.sid}",
            "RecordingDuration": "20",
        }
        status = threading.Thread(
            target=self.post,
            args=(
                part_of(record["recordingStatusCallback"]),
                {"AccountSid": ACCOUNT, "CallSid": call["CallSid"], **about,
                 "RecordingStatus": "completed"},
            ),
        )  # fmt: skip
        status.start()
        after = self.post(part_of(record["action"]), {**call, **about, "Digits": "hangup"})
        status.join()
        if after.ok:
            assert twiml(after).find("Hangup") is not None, after.body
        else:  # the fallback bin's apology; the caller, message left, hangs up
            bin_twiml(FALLBACK_BIN)

    # Twilio's REST API, over this account.

    def serve_api(self, api: responses.RequestsMock) -> None:
        def listed(_request: Any) -> tuple[int, dict[str, str], str]:
            items = [
                recording(r.sid, r.call_sid, duration="20", created=r.created)
                for r in self.recordings
            ]
            return 200, {}, json.dumps(recordings_page(*items))

        def described(request: Any) -> tuple[int, dict[str, str], str]:
            sid = urlsplit(request.url).path.rsplit("/", 1)[-1].removesuffix(".json")
            if sid not in self.calls:
                return 404, {}, json.dumps({"code": 20404, "message": "not found", "status": 404})
            caller, to = self.calls[sid]
            return 200, {}, json.dumps(inbound_call(sid, caller, to))

        api.add_callback(responses.GET, RECORDINGS_URL, callback=listed)
        api.add_callback(responses.GET, re.compile(re.escape(API) + r"/Calls/CA\w+\.json"),
                         callback=described)  # fmt: skip


class Callers:
    """Threads that ring the service, caller after caller, until told to stop."""

    def __init__(self, twilio: FakeTwilio) -> None:
        self.twilio = twilio
        self.numbers = itertools.count(1)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._ring, daemon=True) for _ in range(THREADS)]

    def _ring(self) -> None:
        while not self.stop.is_set():
            self.twilio.ring(next(self.numbers))
            self.stop.wait(PAUSE_S)

    def __enter__(self) -> Callers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(WAIT_S)

    def heard_since(self, since: float, what: str | None = None) -> int:
        """How many callers finished their call after `since` (having heard `what`)."""
        with self.twilio.lock:
            return sum(
                1
                for ended, heard in self.twilio.heard.values()
                if ended > since and what in (None, heard)
            )


# The faults.


def lock_waiters(conn: psycopg.Connection[Any]) -> list[int]:
    """The client ports of the sessions waiting for a lock."""
    rows = conn.execute(
        "SELECT client_port FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND pid <> pg_backend_pid() AND client_port IS NOT NULL"
    ).fetchall()
    return [int(port) for (port,) in rows]


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}").glob("fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def worker_waiting(web: Web, ports: list[int]) -> int | None:
    """The web worker whose database connection, on one of these local ports, is waiting."""
    for pid in web.workers():
        inodes = socket_inodes(pid)
        for table in ("tcp", "tcp6"):
            try:
                lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port in ports and fields[9] in inodes:
                    return pid
    return None


class TableLock:
    """Holds the call table locked from a connection of the test's, so that webhooks wait."""

    def __init__(self, postgres: PrivatePostgres) -> None:
        self.conn = postgres.connect()
        self.conn.execute("LOCK TABLE call IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        with contextlib.suppress(psycopg.Error):  # the server ended the session (it restarted)
            self.conn.rollback()
        self.conn.close()


def kill_a_worker_holding_a_request(web: Web, postgres: PrivatePostgres) -> tuple[int, float]:
    """SIGKILL a web worker while one of its requests waits for the database; returns the
    worker's pid and when it was killed."""
    held = TableLock(postgres)
    try:
        with postgres.connect() as watcher:
            watcher.autocommit = True
            victim = wait_for(
                "a web worker's request to wait for the locked table",
                lambda: worker_waiting(web, lock_waiters(watcher)),
            )
            killed_at = time.monotonic()  # no request can be dropped by the kill before this
            os.kill(victim, signal.SIGKILL)
            return victim, killed_at
    finally:
        held.release()


def restart_postgres_under_requests(postgres: PrivatePostgres) -> tuple[int, float]:
    """Restart PostgreSQL while webhooks wait on it; returns how many were waiting, and when
    it was back."""
    held = TableLock(postgres)
    with postgres.connect() as watcher:
        watcher.autocommit = True
        waiting = len(wait_for("webhooks waiting on the database", lambda: lock_waiters(watcher)))
        born = watcher.execute("SELECT pg_postmaster_start_time()").fetchone()
    postgres.restart()
    back = time.monotonic()
    held.release()
    with postgres.connect() as conn:
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() != born
    return waiting, back


# The test.


def test_callers_hear_twiml_and_every_message_reaches_the_queue_once_through_faults(
    postgres: PrivatePostgres, web: Web
) -> None:
    twilio = FakeTwilio(web.port)
    started = time.monotonic()
    with Callers(twilio) as callers:
        wait_for(
            "callers to reach the answer machine",
            lambda: callers.heard_since(started) >= 8,
            web.output,
        )

        victim, killed_at = kill_a_worker_holding_a_request(web, postgres)
        wait_for(
            "gunicorn to replace the killed worker",
            lambda: victim not in web.workers() and len(web.workers()) == WORKERS,
            web.output,
        )
        back = time.monotonic()
        wait_for(
            "callers after the worker came back",
            lambda: callers.heard_since(back) >= 4,
            web.output,
        )

        waiting, restart_ended = restart_postgres_under_requests(postgres)
        wait_for(
            "callers after PostgreSQL came back",
            lambda: (
                callers.heard_since(restart_ended, "answer machine") >= 4
                and len(twilio.heard) >= MIN_CALLERS
            ),
            web.output,
        )
    took = time.monotonic() - started

    assert twilio.problems == []
    # Every call the service answered was answered with TwiML (checked as each came); it
    # answered no error, and kept each caller within Twilio's patience.
    assert [a for a in twilio.answers if a.status is not None and not a.ok] == []
    assert [a for a in twilio.answers if a.failure == "timeout"] == []
    # Requests were dropped only by the killed worker, and it did drop some (a caller whose
    # first request was dropped heard the fallback bin).
    dropped = [a for a in twilio.answers if a.failure == "dropped"]
    assert dropped, "killing the worker dropped no request"
    elsewhen = [
        f"{a.path} from {a.started - killed_at:+.2f} s to {a.ended - killed_at:+.2f} s"
        for a in dropped
        if not a.started <= killed_at <= a.ended
    ]
    assert elsewhen == [], f"dropped away from the kill (at 0 s):\n{web.output()}"
    heard = [what for _, what in twilio.heard.values()]
    # PostgreSQL restarted while webhooks waited on it.
    assert waiting >= 1

    # Twilio's account holds every message; the job files those no webhook delivered.
    settings = make_settings(DATABASE_URL=postgres.url)
    engine = database_engine(settings, "background")
    runtime = make_runtime(
        settings, sessions=session_factory(engine), dialer=TwilioDialer(ACCOUNT, TOKEN)
    )
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
            twilio.serve_api(api)
            first = run_job(runtime, "reconcile-recordings")
            again = run_job(runtime, "reconcile-recordings")
        with unit_of_work(runtime.sessions) as session:
            messages = session.scalar(select(func.count()).select_from(Message))
            shown = list_callbacks(session, datetime.now(UTC))
    finally:
        engine.dispose()
    left = {r.sid: twilio.calls[r.call_sid][0] for r in twilio.recordings}
    assert isinstance(first, Reconciled) and first.failed == 0
    assert again == Reconciled(checked=len(left), recovered=0, failed=0)
    filed = [m["recording_sid"] for c in shown for m in c["messages"]]
    assert sorted(filed) == sorted(left), "a message was lost or filed twice"
    assert messages == len(left)
    open_ = [c for c in shown if c["status"] == "open"]
    assert len(open_) == len(left)  # each caller rang once: one callback each
    for callback in open_:
        [message] = callback["messages"]
        assert callback["phone"] == left[message["recording_sid"]], callback

    # Nothing the web process said named a caller.
    output = web.output()
    assert CALLER_DIGITS not in output
    print(
        f"\n{len(twilio.heard)} callers in {took:.1f} s; heard: "
        + ", ".join(f"{heard.count(w)} {w}" for w in sorted(set(heard)))
        + f"; {len(dropped)} requests dropped; {waiting} waiting at the restart; "
        f"reconciliation recovered {first.recovered} of {len(left)} messages"
    )
