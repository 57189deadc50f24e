"""Alembic's environment: migrate the database named by the caller (see helpline.migrate)."""

from alembic import context
from sqlalchemy import Connection

from helpline.db import Base
from helpline.migrations.models import ALL_MODELS

assert ALL_MODELS  # every model must be imported before autogenerate compares

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copying and dropping it, which SQLite refuses while
        # other tables' rows refer to it. The pragma only works outside a transaction, so it
        # goes to the driver before the migration's transaction begins.
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=sqlite
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("a migration left rows that refer to missing rows")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    )


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from helpline.db import make_engine

    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url") or ""
    )
    try:
        with engine.connect() as conn:
            run(conn)
    finally:
        engine.dispose()  # leave no connection open in a process that may fork a web worker
