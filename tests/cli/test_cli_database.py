"""The `helpline` commands and the webhooks facing the database: what `helpline db upgrade`
did, and a short plain message, never a traceback, when the database cannot be reached."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result

from helpline.app import create_app, make_runtime
from helpline.cli import main
from helpline.migrate import alembic_config, current_heads
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, make_settings, signed_post

PARENT = "+447700900123"


def helpline(url: str, *args: str) -> Result:
    env = {
        "DATABASE_URL": url,
        "HELPLINE_CONFIG": None,
        "HELPLINE_DEMO": None,
        "HELPLINE_ENV": None,
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_db_upgrade_says_it_created_the_schema_then_that_it_is_already_current(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/new.sqlite3"
    [head] = current_heads()

    first = helpline(url, "db", "upgrade")
    second = helpline(url, "db", "upgrade")

    assert first.exit_code == 0, first.output
    assert f"Created the database schema at revision {head}" in first.output
    assert second.exit_code == 0, second.output
    assert second.output.strip() == f"The database is already up to date, at revision {head}."


def test_db_upgrade_says_which_revisions_it_migrated_between(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    command.upgrade(alembic_config(url), "0004")
    [head] = current_heads()

    result = helpline(url, "db", "upgrade")

    assert result.exit_code == 0, result.output
    assert f"Migrated the database from revision 0004 to {head}" in result.output


def test_db_upgrade_on_a_current_database_changes_nothing_and_says_so(database_url: str) -> None:
    [head] = current_heads()

    result = helpline(database_url, "db", "upgrade")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"The database is already up to date, at revision {head}."


# A database that cannot be reached.

PASSWORD = "s3cret-pw"


@pytest.fixture
def unreachable() -> str:
    """A PostgreSQL URL, with a password, whose port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://helpline:{PASSWORD}@127.0.0.1:{port}/helpline"


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade"),
        ("calls", "list", "--json"),
        ("callbacks", "list"),
        ("office", "close", "herefordshire"),
        ("jobs", "run", "assign-callbacks"),
    ],
)
def test_a_command_against_an_unreachable_database_says_so_in_one_short_message(
    unreachable: str, args: tuple[str, ...]
) -> None:
    result = helpline(unreachable, *args)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    said = result.output.strip()
    assert said.startswith("Error: the database at 127.0.0.1:")
    assert "did not answer (OperationalError" in said
    assert "Check DATABASE_URL" in said
    assert len(said.splitlines()) <= 3
    assert PASSWORD not in said and "Traceback" not in said


def test_a_command_on_a_database_never_upgraded_says_how_to_create_its_tables(
    tmp_path: Path,
) -> None:
    result = helpline(f"sqlite:///{tmp_path}/empty.sqlite3", "callbacks", "list")

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    said = result.output.strip()
    assert said.startswith(f"Error: the database in {tmp_path}/empty.sqlite3 has none of")
    assert "helpline db upgrade" in said and "--demo" in said and "try again" not in said


def test_a_webhook_failing_on_an_unreachable_database_logs_a_short_plain_line(
    unreachable: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_runtime(make_settings(DATABASE_URL=unreachable), clock=clock))
    incoming = {"CallSid": "CA" + "d0" * 16, "From": PARENT, "To": HEREFORD}
    caplog.set_level(logging.INFO)

    response = signed_post(
        app.test_client(), "/voice/incoming", incoming, token=TOKEN, base_url=BASE_URL
    )

    assert response.status_code == 200 and "<Record" in response.get_data(as_text=True)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith(
        "webhook /voice/incoming failed: database unavailable (OperationalError)"
    )
    assert line.count(" <- ") <= 2  # a few frames of the service's own code, no more
    assert PASSWORD not in caplog.text and PARENT not in caplog.text


def test_a_job_failing_on_an_unreachable_database_logs_a_short_plain_line(
    unreachable: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    helpline(unreachable, "jobs", "run", "assign-callbacks")

    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("job assign-callbacks failed: database unavailable (OperationalError)")
    assert line.count(" <- ") <= 2 and PASSWORD not in caplog.text


def test_db_upgrade_in_the_demo_says_it_created_the_demos_schema(tmp_path: Path) -> None:
    env = {
        "HELPLINE_DEMO_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
        "HELPLINE_CONFIG": None,
        "HELPLINE_ENV": None,
    }

    result = CliRunner().invoke(main, ["--demo", "db", "upgrade"], env=env)

    assert result.exit_code == 0, result.output
    assert "Created the database schema at revision" in result.output
