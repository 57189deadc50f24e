"""callbacks that wait with no deadline; recordings claimed for deletion

A callback may wait with no deadline while its office has no opening in sight, and a message
records when a delete-recordings run claimed it, so that a second clock leaves it alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.alter_column(
            "due_at", existing_type=helpline.db.UTCDateTime(timezone=True), nullable=True
        )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deleting_since", helpline.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("deleting_since")
    # A callback still waiting for its office to open is given its creation time as deadline:
    # overdue, so the duty officer sees it, rather than a row the old schema cannot hold.
    op.execute("UPDATE callback SET due_at = created_at WHERE due_at IS NULL")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.alter_column(
            "due_at", existing_type=helpline.db.UTCDateTime(timezone=True), nullable=False
        )
