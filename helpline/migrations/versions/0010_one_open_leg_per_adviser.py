"""index each adviser's open legs

Routing claims an adviser by checking, afresh, the legs still open on them: this partial index
keeps that check to the few open legs however many legs the adviser has had. It is not unique:
an adviser already being rung for one caller may be rung for another when nobody else is free.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_leg_open_by_adviser",
            ["adviser_id"],
            unique=False,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.drop_index("ix_call_leg_open_by_adviser")
