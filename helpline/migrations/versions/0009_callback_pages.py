"""callback pages: advisers away, and who wrote a note

An adviser may set themself away while on shift (rung for no call, given no new callback).
A note records the staff account that wrote it, beside the person's name it shows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("callback_note", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_account_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_callback_note_author_account_id"), ["author_account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("callback_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_note_author_account_id"))
        batch_op.drop_column("author_account_id")
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.drop_column("away")
