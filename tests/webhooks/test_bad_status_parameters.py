"""Signed callbacks carrying absurd values: answered, never an error, nothing absurd stored.

Twilio never sends a 300-digit CallDuration, but a status or recording callback with bad
parameters must still be answered 2xx and ignored, and nothing bad may reach the database: on
PostgreSQL an oversized value fails the whole transaction, and SQLite would simply keep it.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Session

import helpline.migrations.models  # noqa: F401 - every table in Base.metadata for the scan below
from callbacks import attempts, filing
from callbacks.models import Message
from calls.models import Call, CallLeg
from helpline.db import Base
from helpline.settings import Settings
from rota.service import find_adviser
from tests.constants import ANN, HEREFORD, PARENT
from tests.factories import Clock, adviser, signed_post

SID = "CA" + "ab" * 16
HUGE = "9" * 300
WORD = "x" * 300


@pytest.fixture
def ids(client: FlaskClient, session: Session, settings: Settings, clock: Clock) -> dict[str, int]:
    """A live call ringing Ann (one leg), and a call-back attempt by Ann."""
    adviser(session, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
    session.commit()
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    leg = session.scalars(select(CallLeg)).one()
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    attempt = attempts.start_attempt(
        session, callback, find_adviser(session, "Ann Ash"), "t", clock()
    )
    session.commit()
    return {"leg": leg.id, "attempt": attempt.id}


def post(client: FlaskClient, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    return signed_post(client, path, params)


ABSURD = {
    "From": HUGE,
    "To": HUGE,
    "CallDuration": HUGE,
    "SequenceNumber": HUGE,
    "RecordingSid": "RE" + HUGE,
    "RecordingDuration": HUGE,
    "RecordingUrl": "https://api.twilio.com/x",
    "RecordingStatus": WORD,
    "DialCallSid": "CA" + HUGE,
    "DialCallDuration": HUGE,
    "DialCallStatus": WORD,
    "ParentCallSid": "CA" + HUGE,
    "Timestamp": HUGE,
}

ROUTES = [
    "/voice/status",
    "/voice/recording-status",
    "/voice/recorded",
    "/voice/leg-status?leg={leg}",
    "/voice/dial-result?leg={leg}",
    "/voice/callback/status?attempt={attempt}",
    "/voice/callback/dialled?attempt={attempt}",
]


def nothing_absurd_stored(session: Session) -> list[str]:
    """Every stored string within its column's size, every integer within PostgreSQL's."""
    session.expire_all()
    found = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column in table.columns:
                value, kind = row[column.name], column.type
                if isinstance(kind, String) and isinstance(value, str):
                    too_long = kind.length is not None and len(value) > kind.length
                    if too_long:
                        found.append(f"{table.name}.{column.name}: {len(value)} characters")
                if isinstance(kind, Integer) and isinstance(value, int) and abs(value) >= 2**31:
                    found.append(f"{table.name}.{column.name}: {value}")
    return found


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("call_sid", "status"),
    [(SID, "completed"), (SID, WORD), ("CA" + HUGE, "completed")],
    ids=["absurd-numbers", "absurd-status", "absurd-call-sid"],
)
def test_a_callback_with_absurd_values_is_answered_and_stores_nothing_absurd(
    client: FlaskClient,
    session: Session,
    ids: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    route: str,
    call_sid: str,
    status: str,
) -> None:
    caplog.set_level(logging.WARNING)
    params = {**ABSURD, "CallSid": call_sid, "CallStatus": status}
    response = post(client, route.format(**ids), params)
    assert response.status_code in (200, 204)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert nothing_absurd_stored(session) == []


def test_a_status_callback_for_an_absurd_call_sid_makes_no_call(
    client: FlaskClient, session: Session
) -> None:
    params = {"CallSid": "CA" + HUGE, "CallStatus": "completed", "From": PARENT, "To": HEREFORD}
    assert post(client, "/voice/status", params).status_code == 200
    assert session.scalars(select(Call)).all() == []


def test_absurd_numbers_in_a_final_status_are_dropped_but_the_call_still_ends(
    client: FlaskClient, session: Session
) -> None:
    post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    params = {"CallSid": SID, "CallStatus": "completed", "CallDuration": HUGE}
    assert post(client, "/voice/status", {**params, "SequenceNumber": HUGE}).status_code == 200
    session.expire_all()
    call = session.scalars(select(Call)).one()
    assert (call.status, call.duration_s, call.last_sequence) == ("completed", None, None)
    assert call.outcome == "missed"  # no adviser on shift: the caller reached the answer machine


@pytest.mark.parametrize(
    ("route", "extra"),
    [
        ("/voice/incoming", {}),
        ("/voice/status", {"CallStatus": "completed"}),
        (
            "/voice/recorded",
            {"RecordingSid": "RE" + "1" * 32, "RecordingDuration": "5", "RecordingUrl": "x"},
        ),
    ],
)
@pytest.mark.parametrize("to", [HEREFORD + "\x00", "\x00", "+44\n1632960001"])
def test_a_dialled_number_with_a_control_character_counts_as_missing_and_nothing_is_lost(
    client: FlaskClient,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    route: str,
    extra: dict[str, str],
    to: str,
) -> None:
    # PostgreSQL refuses a NUL byte in a string, and with it the call's whole transaction.
    response = post(client, route, {"CallSid": SID, "From": PARENT, "To": to, **extra})
    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    session.expire_all()
    if route == "/voice/recorded":  # without the number dialled, the message alone is kept
        assert session.scalars(select(Message.call_sid)).all() == [SID]
    else:
        assert session.scalars(select(Call.to_number)).all() == [""]
