"""A caller whose call goes to the partner office is told so, from the first ring."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from helpline.settings import Settings
from rota.models import Closure
from rota.service import close_office
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import Clock, adviser, signed_post

MONDAY = date(2026, 11, 30)
PARENT = "+447700900123"
ANN, CAT = "+447700900001", "+447700900003"
INCOMING = {"CallSid": "CA" + "9a" * 16, "From": PARENT, "To": HEREFORD}


def incoming(app: Flask) -> tuple[str, list[str]]:
    """What the caller hears first, and the phones rung."""
    response = signed_post(
        app.test_client(), "/voice/incoming", INCOMING, token=TOKEN, base_url=BASE_URL
    )
    root = ET.fromstring(response.get_data(as_text=True))
    said = " ".join(say.text or "" for say in root.iter("Say"))
    return said, [number.text or "" for number in root.iter("Number")]


def test_a_call_to_a_closed_office_is_told_it_goes_to_the_partner_office(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    close_office(session, settings, "herefordshire", clock(), reason="training")
    session.commit()

    said, rung = incoming(app)

    assert rung == [CAT]
    assert "Our Herefordshire helpline is closed at the moment" in said
    assert "passing your call to our advisers in Worcestershire" in said
    assert said.index("Worcestershire") < said.index("Please hold")


def test_a_call_when_nobody_in_the_office_is_on_shift_is_told_it_goes_to_the_partner(
    app: Flask, session: Session
) -> None:
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    session.commit()

    said, rung = incoming(app)

    assert rung == [CAT]
    assert "closed" not in said
    assert "None of our Herefordshire advisers is free just now" in said
    assert "passing your call to our advisers in Worcestershire" in said


def test_a_call_answered_in_its_own_office_hears_no_notice(app: Flask, session: Session) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    session.commit()

    said, rung = incoming(app)

    assert rung == [ANN]
    assert "Worcestershire" not in said.replace("Herefordshire and Worcestershire SENDIASS", "")


def test_a_call_to_a_closed_office_with_nobody_of_its_own_on_shift_is_told_it_is_closed(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    close_office(session, settings, "herefordshire", clock(), reason="training")
    session.commit()

    said, rung = incoming(app)

    assert rung == [CAT]
    assert "Our Herefordshire helpline is closed at the moment" in said
    assert "None of our Herefordshire advisers" not in said


@pytest.mark.parametrize(
    ("starts", "ends", "open_now"),
    [
        (-3600, 0, True),  # ended this instant: open again
        (0, 3600, False),  # began this instant
        (-3600, None, False),  # until reopened
        (60, 3600, True),  # still to come
    ],
)
def test_a_closure_closes_its_office_from_its_start_until_its_end(
    app: Flask,
    session: Session,
    clock: Clock,
    starts: int,
    ends: int | None,
    open_now: bool,
) -> None:
    adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    adviser(session, "Cat Cedar", CAT, "worcestershire", MONDAY)
    now = clock()
    session.add(
        Closure(
            office="herefordshire",
            starts_at=now + timedelta(seconds=starts),
            ends_at=None if ends is None else now + timedelta(seconds=ends),
            created_at=now - timedelta(hours=2),
        )
    )
    session.commit()

    _, rung = incoming(app)

    assert rung == ([ANN] if open_now else [CAT])
