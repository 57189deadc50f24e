"""Test fixtures: each database test runs on SQLite and, when a URL is given, on PostgreSQL.

Tests sit in folders by kind, and each is marked with its folder's name: unit (pure, no
database), db (services and jobs on a database), webhooks (signed requests to the app), cli
(the `helpline` command, in this process), staff (the staff pages through the test client),
browser (the staff pages in Chromium) and process (real processes: gunicorn, the installed
command). So `pytest -m unit` runs the quick ones, and `-m "not process"` all but the slowest.

Set HELPLINE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to
run the PostgreSQL half: a fresh database is created for the run and dropped at the end. Each
test runs inside a transaction that is rolled back, on a schema built by the real migrations.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from helpline.app import create_app, make_runtime
from helpline.db import make_engine, normalise_url
from helpline.migrate import upgrade
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.constants import ACCOUNT, TOKEN
from tests.factories import Clock, empty_tables, make_settings
from tests.network import NetworkGuard
from webhooks.twilio_dialer import TwilioDialer

pytest_plugins = ["pytester"]  # tests/unit/test_network_guard.py runs a test run of its own

PG_URL_VAR = "HELPLINE_TEST_DATABASE_URL"
KINDS = ("unit", "db", "webhooks", "cli", "process", "staff", "browser")
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its kind; a unit test that asks for a database is a mistake."""
    for item in items:
        path = item.path.resolve()
        parts = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
        kind = parts[0] if len(parts) > 1 and parts[0] in KINDS else None
        if kind is None:
            continue
        item.add_marker(kind)
        if kind == "unit" and "database_url" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid}: a unit test may not use the database")


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def no_network(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[NetworkGuard]:
    """Every test runs off the network: reaching beyond this machine fails it, even when the
    code under test catches the error."""
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard
    if guard.blocked and not request.node.stash.get(CALL_FAILED, False):
        pytest.fail(f"the test tried to reach the network: {', '.join(guard.blocked)}")


def _create_postgres_database(admin_url: str) -> tuple[str, Engine]:
    name = f"helpline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin_url)).set(database=name)
    return url.render_as_string(hide_password=False), admin


def _drop_postgres_database(admin: Engine, url: str) -> None:
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of its own: an SQLite file in `folder`, or a PostgreSQL
    database made next to HELPLINE_TEST_DATABASE_URL's and dropped afterwards (the test is
    skipped, saying so, when that is not set)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/helpline.sqlite3"
        return
    admin_url = os.environ.get(PG_URL_VAR)
    if not admin_url:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_URL_VAR} to run them")
    url, admin = _create_postgres_database(admin_url)
    try:
        yield url
    finally:
        _drop_postgres_database(admin, url)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database for this run, on each backend."""
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def committed(engine: Engine) -> Iterator[Engine]:
    """The test database with committed data (no test transaction around it), emptied after."""
    try:
        yield engine
    finally:
        empty_tables(engine)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits only release savepoints inside the test's transaction."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def clock() -> Clock:
    """Monday 30 November 2026, 10:00 in London (GMT), both offices open."""
    return Clock(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def runtime(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Runtime:
    return make_runtime(settings, sessions=sessions, clock=clock)


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def twilio() -> Iterator[responses.RequestsMock]:
    """Twilio's REST API, answered locally: a request nobody registered fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def twilio_dialer(twilio: responses.RequestsMock) -> TwilioDialer:
    """The Twilio dialer for the test account, talking to the `twilio` stand-in."""
    return TwilioDialer(ACCOUNT, TOKEN)
