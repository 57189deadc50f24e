"""The stretches of a zone's clock that the local hour of the week is worked out from."""

from __future__ import annotations

from datetime import UTC, datetime

from helpline.statistics.sql import offsets
from tests.constants import LONDON


def test_a_year_in_london_has_three_stretches_split_at_the_clock_changes() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)

    assert offsets(LONDON, start, end) == [
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 0),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
        (end, 0),
    ]


def test_a_summer_week_is_one_stretch_an_hour_ahead() -> None:
    start, end = datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 13, tzinfo=UTC)

    assert offsets(LONDON, start, end) == [(end, 3600)]
