"""The migrations build exactly the schema the models describe, and can be undone."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from helpline.db import Base, make_engine
from helpline.migrate import alembic_config, upgrade
from helpline.migrations.models import ALL_MODELS
from tests.constants import ANN, PARENT


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


def test_upgrading_a_database_keeps_its_callbacks_and_their_messages(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/kept.sqlite3"
    command.upgrade(alembic_config(url), "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO callback (id, phone, office, status, due_at, created_at, version) "
                "VALUES (1, :phone, 'herefordshire', 'open', '2026-12-02 10:00:00', "
                "'2026-11-30 10:00:00', 1)"
            ),
            {"phone": PARENT},
        )
        conn.execute(
            text(
                "INSERT INTO message (id, recording_sid, call_sid, office, duration_s, "
                "received_at, callback_id) VALUES (1, 'RE1', 'CA1', 'herefordshire', 10, "
                "'2026-11-30 10:00:00', 1)"
            )
        )
    engine.dispose()

    upgrade(url)

    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, office FROM callback")).all() == [(1, "herefordshire")]
        assert conn.execute(text("SELECT callback_id FROM message")).all() == [(1,)]
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_upgrading_keeps_the_advisers_and_none_of_them_has_left(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/advisers.sqlite3"
    command.upgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO adviser (id, name, name_key, phone, created_at, updated_at) "
                "VALUES (1, 'Alex Adams', 'alex adams', :phone, "
                "'2026-11-30 10:00:00', '2026-11-30 10:00:00')"
            ),
            {"phone": ANN},
        )
    engine.dispose()

    upgrade(url)

    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, left_at FROM adviser")).all() == [
            ("Alex Adams", None)
        ]
    engine.dispose()
    command.downgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    assert "left_at" not in {c["name"] for c in inspect(engine).get_columns("adviser")}
    engine.dispose()


def test_an_in_memory_sqlite_database_can_be_migrated_on_one_connection() -> None:
    engine = make_engine("sqlite://")
    with engine.begin() as conn:
        upgrade(connection=conn)
        assert "callback" in inspect(conn).get_table_names()
    engine.dispose()


def test_upgrading_keeps_advisers_available_and_notes_without_an_account(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/pages.sqlite3"
    command.upgrade(alembic_config(url), "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO adviser (id, name, name_key, phone, created_at, updated_at) "
                "VALUES (1, 'Alex Adams', 'alex adams', :phone, "
                "'2026-11-30 10:00:00', '2026-11-30 10:00:00')"
            ),
            {"phone": ANN},
        )
        conn.execute(
            text(
                "INSERT INTO callback (id, phone, office, status, created_at, version) "
                "VALUES (1, :phone, 'herefordshire', 'open', '2026-11-30 10:00:00', 1)"
            ),
            {"phone": PARENT},
        )
        conn.execute(
            text(
                "INSERT INTO callback_note (id, callback_id, author, text, created_at) "
                "VALUES (1, 1, 'Alex Adams', 'Rang twice.', '2026-11-30 11:00:00')"
            )
        )
    engine.dispose()

    upgrade(url)

    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, away FROM adviser")).all() == [("Alex Adams", False)]
        assert conn.execute(text("SELECT text, author_account_id FROM callback_note")).all() == [
            ("Rang twice.", None)
        ]
    engine.dispose()
    command.downgrade(alembic_config(url), "0007")
    engine = make_engine(url)
    assert "away" not in {c["name"] for c in inspect(engine).get_columns("adviser")}
    engine.dispose()
