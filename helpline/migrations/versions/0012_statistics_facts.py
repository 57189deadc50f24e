"""statistics facts: kept on calls, callbacks and attempts as they happen

A year of statistics reads each large table once when what it needs is on the row: whether an
adviser was rung for a call and the talk on its answering leg (on the call), when a callback's
first attempt placed through Twilio started (on the callback), and the callback's county and the
team the adviser of an attempt was working for (on the attempt). Existing rows are filled in from the legs, attempts
and shifts, by the rules the statistics used to apply when counting.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seconds_between(start: str, end: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"date_part('epoch', {end} - {start})"

    # SQLite keeps timestamps as text; whole seconds, then the fraction from %f.
    def epoch(x: str) -> str:
        return (
            f"(CAST(strftime('%s', {x}) AS INTEGER) - CAST(strftime('%S', {x}) AS INTEGER)"
            f" + CAST(strftime('%f', {x}) AS REAL))"
        )

    return f"({epoch(end)} - {epoch(start)})"


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("adviser_rung", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("talk_s", sa.Float(), nullable=True))
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=40), nullable=True))

    dialect = op.get_bind().dialect.name
    op.execute(
        "UPDATE call SET adviser_rung = true"
        " WHERE ended_at IS NOT NULL AND EXISTS (SELECT 1 FROM call_leg WHERE call_id = call.id)"
    )
    talk = _seconds_between("l.accepted_at", "l.ended_at", dialect)
    op.execute(
        f"UPDATE call SET talk_s = (SELECT {talk} FROM call_leg l WHERE l.call_id = call.id"  # noqa: S608 - fixed text
        " AND l.accepted_at IS NOT NULL AND l.ended_at IS NOT NULL ORDER BY l.id LIMIT 1)"
        " WHERE answered_at IS NOT NULL"
    )
    op.execute(
        "UPDATE callback SET first_attempt_at = (SELECT min(a.started_at) FROM attempt a"
        " WHERE a.callback_id = callback.id AND a.placed)"
    )
    op.execute(
        "UPDATE attempt SET office ="
        " (SELECT c.office FROM callback c WHERE c.id = attempt.callback_id)"
    )
    shifts = "SELECT s.office FROM shift s WHERE s.adviser_id = attempt.adviser_id"
    op.execute(
        "UPDATE attempt SET team = COALESCE("  # noqa: S608 - fixed text
        f"({shifts} AND s.starts_at <= attempt.started_at AND s.ends_at > attempt.started_at"
        " ORDER BY s.starts_at DESC LIMIT 1),"
        f"({shifts} AND s.starts_at <= attempt.started_at ORDER BY s.starts_at DESC LIMIT 1),"
        f"({shifts} ORDER BY s.starts_at LIMIT 1),"
        "attempt.office) WHERE adviser_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("team")
        batch_op.drop_column("office")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_column("first_attempt_at")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_column("talk_s")
        batch_op.drop_column("adviser_rung")
