"""who gave an attempt its outcome

An attempt records whether its outcome came from Twilio's report ('twilio') or from a person
('adviser'), so that an adviser's word replaces an automatic outcome for the same attempt
without reading the audit events. Existing attempts take it from their latest outcome event,
as the code before this revision decided; an attempt with an outcome and no such event is
taken as a person's (never replaced).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 10:00:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outcomes an adviser's word may replace, as they are at this revision.
OUTCOMES = ("spoke", "left-message", "no-answer", "wrong-number")


def upgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_source", sa.String(length=10), nullable=True))
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    automatic: dict[int, bool] = {}  # attempt id: whether its latest outcome event was automatic
    events = bind.execute(
        sa.text("SELECT detail FROM callback_event WHERE kind LIKE 'outcome-%' ORDER BY id")
    )
    for (raw,) in events:
        detail: Any = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(detail, dict) and isinstance(detail.get("attempt_id"), int):
            automatic[detail["attempt_id"]] = bool(detail.get("automatic"))
    outcomes: sa.BindParameter[list[str]] = sa.bindparam("outcomes", expanding=True)
    bind.execute(
        sa.text(
            "UPDATE attempt SET outcome_source = 'adviser' WHERE outcome IN :outcomes"
        ).bindparams(outcomes),
        {"outcomes": list(OUTCOMES)},
    )
    twilios = [attempt_id for attempt_id, was in automatic.items() if was]
    for start in range(0, len(twilios), 500):
        bind.execute(
            sa.text(
                "UPDATE attempt SET outcome_source = 'twilio' "
                "WHERE outcome IN :outcomes AND id IN :ids"
            ).bindparams(outcomes, sa.bindparam("ids", expanding=True)),
            {"outcomes": list(OUTCOMES), "ids": twilios[start : start + 500]},
        )


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("outcome_source")
