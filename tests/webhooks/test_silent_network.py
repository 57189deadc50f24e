"""A PostgreSQL connection whose network goes silent after connecting: the server's own
timeouts never hear of a query that does not reach it, so the client's socket must give up by
itself (libpq's tcp_user_timeout and keepalives), and the pool must recover once the network
is back.

A proxy on 127.0.0.1 stands in for the network. When it stops, it neither forwards nor reads,
and what the client sends then stays unacknowledged, as it does when a network drops packets.
Its own kernel still acknowledges the first few hundred kilobytes (they fit into its buffers),
which a lost network would not, so the query sends more than that. For the same reason a proxy
that keeps its connections open but stops passing data is beyond what these socket options can
see: only a network that stops acknowledging is.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from helpline.app import database_engine
from tests.factories import make_settings

GIVE_UP_AFTER_S = 30.0  # only so that a failing test ends; the promise is a few seconds
BIG = "x" * 8_000_000  # more than the proxy's kernel takes in without being read


class Proxy:
    """Forwards TCP connections to `target` until stopped; stopped, it neither reads nor sends."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closing = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            server = socket.create_connection(self.target)
            pump = threading.Thread(target=self._pump, args=(client, server), daemon=True)
            self.threads.append(pump)
            pump.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        with client, server:
            while not self.closing.is_set():
                if not self.forwarding.is_set():
                    time.sleep(0.05)
                    continue
                ready, _, _ = select.select([client, server], [], [], 0.05)
                for source in ready:
                    try:
                        data = source.recv(65536)
                        if data:
                            (server if source is client else client).sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        return

    def close(self) -> None:
        self.closing.set()
        self.forwarding.set()
        for thread in self.threads:
            thread.join(5)
        self.listener.close()


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("TCP keepalives and user timeouts are PostgreSQL's; SQLite has no network")
    return database_url


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[Proxy]:
    url = make_url(postgres_url)
    running = Proxy((url.host or "127.0.0.1", url.port or 5432))
    yield running
    running.close()


def web_engine(url: str) -> Engine:
    return database_engine(make_settings(DATABASE_URL=url), "web")


def timed(engine: Engine, stop: Proxy | None = None) -> tuple[float, BaseException | None]:
    """On one connection, a short query, then (once `stop` has stopped) a long one; how long
    the long one took, and what it raised (None if nothing). One connection, so that the
    pool's ping (itself short) does not come in between."""
    box: dict[str, BaseException | None] = {}
    took: list[float] = []

    def run() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1")).all()
                if stop is not None:
                    stop.forwarding.clear()
                started = time.monotonic()
                try:
                    conn.execute(text("SELECT length(:big)").bindparams(big=BIG)).all()
                finally:
                    took.append(time.monotonic() - started)
            box["error"] = None
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GIVE_UP_AFTER_S)
    assert "error" in box, f"still waiting after {GIVE_UP_AFTER_S} s"
    return took[0], box["error"]


def test_a_query_on_a_connection_whose_network_went_silent_fails_within_seconds(
    proxy: Proxy, postgres_url: str
) -> None:
    engine = web_engine(
        make_url(postgres_url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )
    try:
        took, error = timed(engine, stop=proxy)

        assert isinstance(error, OperationalError)
        assert took < 10, f"gave up after {took:.1f} s"
        # Once the network is back, the pool has let the dead connection go: queries work.
        proxy.forwarding.set()
        assert timed(engine)[1] is None
    finally:
        engine.dispose()


def socket_options(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        fileno = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
        sock = socket.socket(fileno=socket.dup(fileno))
        try:
            return {
                "user_timeout_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
                "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "idle_s": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "interval_s": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            }
        finally:
            sock.close()


@pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"), reason="Linux's socket options")
def test_the_web_gives_up_on_a_silent_network_sooner_than_the_scheduler(
    postgres_url: str,
) -> None:
    if make_url(postgres_url).host in (None, "") or "/" in str(make_url(postgres_url).host):
        pytest.skip("the test database is reached through a Unix socket")
    settings = make_settings(DATABASE_URL=postgres_url)
    shown = {}
    for role in ("web", "background"):
        engine = database_engine(settings, role)  # type: ignore[arg-type]
        try:
            shown[role] = socket_options(engine)
        finally:
            engine.dispose()

    assert shown == {
        "web": {"user_timeout_ms": 5000, "keepalive": 1, "idle_s": 5, "interval_s": 2, "count": 3},
        "background": {
            "user_timeout_ms": 60000,
            "keepalive": 1,
            "idle_s": 30,
            "interval_s": 10,
            "count": 5,
        },
    }
