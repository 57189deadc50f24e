"""drop the indexes of legs by state alone and by start alone

Every leg written (rung, then answered or ended) updated seven indexes. No query reads legs by
state alone, and the few that read them by start read open legs or one adviser's, which the
indexes of 0014 serve: the settling job's stale legs and the duty officer's read of who is
being rung or talking go through the open legs and the conversations, which are few.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.drop_index("ix_call_leg_state")
        batch_op.drop_index("ix_call_leg_started_at")


def downgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.create_index("ix_call_leg_started_at", ["started_at"], unique=False)
        batch_op.create_index("ix_call_leg_state", ["state"], unique=False)
