"""Every webhook the app serves refuses a forged request, and a refused request changes nothing.

The routes are read from the app's own URL map, so a webhook added later is covered without
anyone remembering to list it here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from callbacks.models import Attempt, Callback, CallbackEvent, Message
from calls.models import Call, CallEvent, CallLeg
from tests.constants import ANN, BASE_URL, HEREFORD, PARENT, TOKEN
from tests.factories import Clock, adviser, signed_post

SID = "CA" + "ab" * 16
TABLES: tuple[type[Any], ...] = (
    Call,
    CallLeg,
    CallEvent,
    Message,
    Callback,
    Attempt,
    CallbackEvent,
)
# Ids the service writes into its own URLs; each points at a row made below.
QUERY_IDS = {"leg": CallLeg, "attempt": Attempt}


def post_routes(app: Flask) -> list[str]:
    """Every path Twilio's webhooks (the blueprints of the webhooks package) answer a POST on;
    the staff pages' forms are refused by their CSRF check instead (tests/staff)."""

    def from_twilio(endpoint: str) -> bool:
        blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
        return blueprint is not None and blueprint.import_name.startswith("webhooks.")

    routes = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and from_twilio(rule.endpoint)
    )
    assert "/voice/incoming" in routes
    return routes


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a webhook can write, column by column."""
    session.expire_all()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in TABLES:
        columns = list(model.__table__.columns)
        found = session.execute(select(*columns).order_by(columns[0])).all()
        rows[model.__tablename__] = [tuple(row) for row in found]
    return rows


def seed(session: Session, now: datetime) -> dict[str, int]:
    """A call ringing an adviser, and a callback with an attempt in progress."""
    person = adviser(session, "Alex Adams", ANN, "herefordshire", date(2026, 11, 30))
    call = Call(
        sid=SID,
        from_number=PARENT,
        to_number=HEREFORD,
        office="herefordshire",
        status="ringing",
        started_at=now,
    )
    session.add(call)
    session.flush()
    leg = CallLeg(
        call_id=call.id,
        adviser_id=person.id,
        office="herefordshire",
        state="ringing",
        started_at=now,
    )
    callback = Callback(
        phone=PARENT,
        office="herefordshire",
        status="assigned",
        assigned_to_id=person.id,
        created_at=now,
        due_at=now + timedelta(days=2),
    )
    session.add_all([leg, callback])
    session.flush()
    attempt = Attempt(
        callback_id=callback.id,
        adviser_id=person.id,
        started_at=now,
        call_sid="CA" + "cd" * 16,
        placed=True,
    )
    session.add(attempt)
    session.commit()
    return {"leg": leg.id, "attempt": attempt.id}


def forged_params() -> dict[str, str]:
    """Parameters that, signed, would change something on almost every route."""
    return {
        "CallSid": SID,
        "From": PARENT,
        "To": HEREFORD,
        "CallStatus": "completed",
        "CallDuration": "30",
        "SequenceNumber": "9",
        "Digits": "1",
        "DialCallStatus": "completed",
        "DialCallSid": "CA" + "ef" * 16,
        "RecordingSid": "RE" + "1" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "10",
        "RecordingUrl": "https://api.twilio.com/x",
    }


def test_the_app_serves_webhooks_to_check(app: Flask) -> None:
    routes = post_routes(app)
    assert "/voice/incoming" in routes and "/voice/status" in routes
    assert len(routes) >= 16


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "tampered"])
def test_every_webhook_refuses_forged_requests_with_403_and_changes_nothing(
    app: Flask, client: FlaskClient, session: Session, clock: Clock, how: str
) -> None:
    ids = seed(session, clock())
    before = snapshot(session)
    params = forged_params()
    refused: dict[str, int] = {}
    for route in post_routes(app):
        query = "&".join(f"{name}={ids[name]}" for name in QUERY_IDS)
        path = f"{route}?{query}"
        if how == "unsigned":
            response = client.post(path, data=params)
        elif how == "wrong token":
            response = signed_post(client, path, params, token="not-the-token", base_url=BASE_URL)
        else:
            # Signed for these parameters, then one changed on the way.
            good = RequestValidator(TOKEN).compute_signature(BASE_URL + path, params)
            response = client.post(
                path,
                data={**params, "From": "+447700900999"},
                headers={"X-Twilio-Signature": good},
            )
        refused[route] = response.status_code
    assert refused == {route: 403 for route in post_routes(app)}
    assert snapshot(session) == before


def test_a_correctly_signed_request_does_change_something(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    # The counterpart of the test above: the seeded rows are ones a webhook would change.
    ids = seed(session, clock())
    before = snapshot(session)
    path = f"/voice/screen?leg={ids['leg']}"
    response = signed_post(client, path, forged_params())
    assert response.status_code == 200
    assert snapshot(session) != before
