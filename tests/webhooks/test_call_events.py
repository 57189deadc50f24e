"""A new call's events are kept in the order they happened, once each."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from calls.models import CallEvent
from tests.constants import BASE_URL, HEREFORD, TOKEN
from tests.factories import adviser, signed_post

MONDAY = date(2026, 11, 30)
SID = "CA" + "7b" * 16
INCOMING = {"CallSid": SID, "From": "+447700900123", "To": HEREFORD}


def ring(app: Flask) -> None:
    response = signed_post(
        app.test_client(), "/voice/incoming", INCOMING, token=TOKEN, base_url=BASE_URL
    )
    assert response.status_code == 200


def kinds(session: Session) -> list[str]:
    session.rollback()  # read what the webhooks committed
    return list(
        session.scalars(
            select(CallEvent.kind).where(CallEvent.call_sid == SID).order_by(CallEvent.id)
        )
    )


def test_a_new_call_that_rings_an_adviser_keeps_its_events_in_order_once(
    app: Flask, session: Session
) -> None:
    adviser(session, "Ann Ash", "+447700900001", "herefordshire", MONDAY)
    session.commit()

    ring(app)
    ring(app)  # Twilio repeats its first request

    assert kinds(session) == ["incoming", "leg-ringing", "leg-ringing"]  # the first never rang


def test_a_new_call_nobody_can_answer_keeps_its_event_before_the_answer_machine(
    app: Flask, session: Session
) -> None:
    ring(app)

    assert kinds(session) == ["incoming", "answer-machine"]
