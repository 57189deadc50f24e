"""index each adviser's legs by start

Routing reads each adviser's last ring of the day through this index, rather than summing up
every leg of the day, so a new call's read costs the same however busy the day has been. It
replaces the index on the adviser alone, which it serves as well.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.create_index("ix_call_leg_adviser_started", ["adviser_id", "started_at"])
        batch_op.drop_index("ix_call_leg_adviser_id")


def downgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.create_index("ix_call_leg_adviser_id", ["adviser_id"])
        batch_op.drop_index("ix_call_leg_adviser_started")
