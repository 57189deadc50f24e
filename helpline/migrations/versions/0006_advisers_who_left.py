"""advisers who left

An adviser records when they left, so that a rota import that still lists them does not give
them shifts again, and so that they are never rung or given work.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("left_at", helpline.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.drop_column("left_at")
