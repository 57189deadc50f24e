"""index each adviser's legs by start, and their open legs and conversations

Routing reads, for each adviser on shift, their last ring of the day, whether they are being
rung and whether they are on a call, and its claim checks their open legs afresh. These
indexes let each be a short lookup, so a new call's read costs the same however busy the day
has been and however many legs were left open (by status callbacks that never came, say):

- every leg by adviser and start, replacing the index on the adviser alone, which it serves;
- the open legs by adviser and start, replacing the one by adviser alone;
- the open legs an adviser accepted (a conversation), by adviser and when.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "ended_at IS NULL"
TALKING = "ended_at IS NULL AND state = 'accepted'"


def upgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.create_index("ix_call_leg_adviser_started", ["adviser_id", "started_at"])
        batch_op.drop_index("ix_call_leg_adviser_id")
        batch_op.drop_index("ix_call_leg_open_by_adviser")
        batch_op.create_index(
            "ix_call_leg_open_by_adviser",
            ["adviser_id", "started_at"],
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
        batch_op.create_index(
            "ix_call_leg_talking_by_adviser",
            ["adviser_id", "accepted_at"],
            postgresql_where=sa.text(TALKING),
            sqlite_where=sa.text(TALKING),
        )


def downgrade() -> None:
    with op.batch_alter_table("call_leg", schema=None) as batch_op:
        batch_op.drop_index("ix_call_leg_talking_by_adviser")
        batch_op.drop_index("ix_call_leg_open_by_adviser")
        batch_op.create_index(
            "ix_call_leg_open_by_adviser",
            ["adviser_id"],
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
        batch_op.create_index("ix_call_leg_adviser_id", ["adviser_id"])
        batch_op.drop_index("ix_call_leg_adviser_started")
