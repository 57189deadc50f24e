"""Alembic's environment: migrate the database named by the caller (see helpline.migrate)."""

from alembic import context
from sqlalchemy import Connection

from helpline.db import Base
from helpline.models import ALL_MODELS

assert ALL_MODELS  # every model must be imported before autogenerate compares

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from helpline.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            run(conn)
    finally:
        engine.dispose()  # leave no connection open in a process that may fork a web worker
