"""`helpline db upgrade` says what it did."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from click.testing import CliRunner, Result

from helpline.cli import main
from helpline.migrate import alembic_config, current_heads


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
