"""statistics indexes: the attempts that count as work, and the open callbacks by county

A year's statistics read the attempts that count as an adviser's work (a callback completed,
or time with the parent) from a partial index that carries what they need (on PostgreSQL,
where an index can include columns), and the oldest open callback of each county from a
partial index of the open ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORK_ATTEMPT = "adviser_id IS NOT NULL AND (outcome = 'spoke' OR parent_seconds > 0)"
OPEN = "status IN ('open', 'assigned')"


def upgrade() -> None:
    op.create_index(
        "ix_attempt_work",
        "attempt",
        ["started_at"],
        postgresql_include=["adviser_id", "team", "office", "outcome", "parent_seconds"],
        postgresql_where=sa.text(WORK_ATTEMPT),
        sqlite_where=sa.text(WORK_ATTEMPT),
    )
    op.create_index(
        "ix_callback_open_created",
        "callback",
        ["office", "created_at"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_callback_open_created", table_name="callback")
    op.drop_index("ix_attempt_work", table_name="attempt")
