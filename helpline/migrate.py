"""Database migrations, run from code so neither the CLI nor the tests need alembic.ini."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from helpline.db import normalise_url

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(
    url: str | None = None, connection: Connection | None = None, engine: Engine | None = None
) -> Config:
    """An Alembic configuration for our migration scripts and one database."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if url:
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(
    url: str | None = None, connection: Connection | None = None, engine: Engine | None = None
) -> None:
    """Create or migrate the database (named by URL, or an engine's) to the newest revision."""
    command.upgrade(alembic_config(url, connection, engine), "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def current_heads() -> tuple[str, ...]:
    """The newest revisions the scripts define (read once: they do not change while running)."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
