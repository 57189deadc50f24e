"""Office hours as the answer machine reads them out: plain spoken British English."""

from __future__ import annotations

from datetime import time

import pytest

from helpline import settings as settings_module
from helpline.settings import Office
from webhooks.wording import hours_sentence

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def office(**hours: list[str]) -> Office:
    """Herefordshire with the given hours, written as in the TOML (mon = ["09:00-17:00"])."""
    days = settings_module.DAYS
    parsed = {
        days.index(day): tuple(
            (time.fromisoformat(r.split("-")[0]), time.fromisoformat(r.split("-")[1]))
            for r in ranges
        )
        for day, ranges in hours.items()
    }
    return Office("herefordshire", "Herefordshire", ("+441632960001",), (), parsed)


def test_the_demo_offices_open_all_day_every_day_are_read_as_24_hours() -> None:
    demo = settings_module.load({"HELPLINE_DEMO": "1"})

    said = hours_sentence(demo.offices["herefordshire"], bank_holidays=False)

    assert said == "Our Herefordshire helpline is open 24 hours a day, every day."


def test_the_default_hours_read_naturally() -> None:
    defaults = settings_module.load({})

    said = hours_sentence(defaults.offices["herefordshire"])

    assert said == (
        "Our Herefordshire helpline is open Monday to Thursday from 9am to 5pm, "
        "and Friday from 9am to 4:30pm, except on bank holidays."
    )


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        (
            {d: ["09:00-12:30", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-12:00"]},
            "open Monday to Friday from 9am to 12:30pm and from 1:30pm to 5pm, "
            "and Saturday from 10am to midday.",
        ),
        (
            {d: ["09:00-17:00"] for d in ("mon", "wed", "fri")},
            "open Monday, Wednesday and Friday from 9am to 5pm.",
        ),
        (
            {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["00:00-23:59"], "sun": ["00:00-23:59"]},
            "open Monday to Friday from 9am to 5pm, and Saturday and Sunday all day.",
        ),
        (
            {d: ["00:00-12:00", "12:00-23:59"] for d in settings_module.DAYS},
            "open 24 hours a day, every day.",
        ),
        (
            {d: ["00:00-23:59"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "open 24 hours a day, Monday to Friday.",
        ),
        ({"sat": ["18:00-23:59"]}, "open Saturday from 6pm to midnight."),
        ({d: ["08:00-20:00"] for d in settings_module.DAYS}, "open every day from 8am to 8pm."),
    ],
)
def test_hours_read_naturally(hours: dict[str, list[str]], said: str) -> None:
    assert hours_sentence(office(**hours), bank_holidays=False) == (
        f"Our Herefordshire helpline is {said}"
    )


def test_an_office_with_no_hours_says_so() -> None:
    assert hours_sentence(office()) == "Our Herefordshire helpline has no regular opening hours."
