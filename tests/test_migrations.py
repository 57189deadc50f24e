"""The migrations build exactly the schema the models describe, and can be undone."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from helpline.db import Base, make_engine
from helpline.migrate import alembic_config, upgrade
from helpline.models import ALL_MODELS


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    assert ALL_MODELS
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path}/cycle.sqlite3"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    assert {"call", "callback", "message", "shift"} <= set(inspect(engine).get_table_names())
    engine.dispose()
