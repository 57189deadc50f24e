"""call local time: each call's local start date and hour of the week

The statistics filter a range of local dates and count calls by local hour of the week; kept
on each call when it arrives, both are plain columns the database scans and groups quickly.
Existing calls are filled in from started_at on the configured clock (`[service] timezone`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _zone() -> ZoneInfo:
    from helpline import settings

    try:
        return settings.load().timezone
    except settings.ConfigError:
        return ZoneInfo("Europe/London")


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("local_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("week_hour", sa.SmallInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_call_local_date"), ["local_date"], unique=False)
    zone = _zone()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(
            sa.text(
                "UPDATE call SET local_date = CAST(started_at AT TIME ZONE :zone AS DATE),"
                " week_hour = (CAST(extract(isodow FROM started_at AT TIME ZONE :zone) AS INTEGER)"
                " - 1) * 24 + CAST(extract(hour FROM started_at AT TIME ZONE :zone) AS INTEGER)"
            ),
            {"zone": zone.key},
        )
        return
    # SQLite knows no zones: fill in from Python, a batch at a time.
    while True:
        rows = bind.execute(
            sa.text("SELECT id, started_at FROM call WHERE local_date IS NULL LIMIT :n"),
            {"n": BATCH},
        ).all()
        if not rows:
            return
        changes = []
        for call_id, started_at in rows:
            at = started_at if isinstance(started_at, datetime) else _parse(started_at)
            here = at.astimezone(zone)
            changes.append(
                {
                    "id": call_id,
                    "day": here.date().isoformat(),
                    "hour": here.weekday() * 24 + here.hour,
                }
            )
        bind.execute(
            sa.text("UPDATE call SET local_date = :day, week_hour = :hour WHERE id = :id"),
            changes,
        )


def _parse(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_local_date"))
        batch_op.drop_column("week_hour")
        batch_op.drop_column("local_date")
