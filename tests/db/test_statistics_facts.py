"""What the statistics read from each row is kept there as it happens, and an upgrade fills it
in for the history already recorded: the figures are the same either way."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import func, select

from callbacks.models import Attempt, Callback
from calls.models import Call
from helpline.db import make_engine, session_factory
from helpline.migrate import alembic_config, upgrade
from tests.constants import HEREFORD, WORCS, london
from tests.db.test_retention_statistics import FIRST, fortnight, stats
from tests.factories import make_settings, played_call


def test_upgrading_fills_in_what_the_statistics_read_and_the_figures_do_not_change(
    fresh_url: str,
) -> None:
    upgrade(fresh_url)
    engine = make_engine(fresh_url)
    with session_factory(engine)() as session:
        fortnight(session)
        settings = make_settings()
        tuesday = FIRST + timedelta(days=1)
        # Callers who waited for an adviser in vain: one reached the machine, one hung up.
        played_call(
            session, settings, "CA" + "w1" * 16, WORCS, london(tuesday, 16), machine_after=40
        )
        played_call(
            session, settings, "CA" + "w2" * 16, HEREFORD, london(tuesday, 16, 30), hang_up_after=90
        )
        session.commit()
        before = stats(session)
        # Not a history with nothing in it to fill in.
        assert session.scalar(select(func.count()).where(Call.adviser_rung.is_(True))) >= 4
        assert session.scalar(select(func.count()).where(Call.talk_s > 0)) >= 8
        assert session.scalar(select(func.count()).where(Callback.first_attempt_at.is_not(None)))
        teams = set(session.scalars(select(Attempt.team).distinct()))
        assert teams == {"herefordshire", "worcestershire"}
    engine.dispose()

    command.downgrade(alembic_config(fresh_url), "0011")
    upgrade(fresh_url)

    engine = make_engine(fresh_url)
    with session_factory(engine)() as session:
        assert stats(session) == before
    engine.dispose()
