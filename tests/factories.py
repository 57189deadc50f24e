"""Building test data and settings, a clock moved by hand, and signing requests as Twilio does."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask.testing import FlaskClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from calls.models import Call
from helpline import settings as settings_module
from helpline.db import Base
from helpline.settings import Settings
from rota.calendar import local_instant
from rota.models import Adviser, Shift
from rota.service import name_key
from tests.constants import BASE_URL, LONDON, TOKEN


class Clock:
    """A clock the tests move by hand; the code under test reads it as its only `now`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> datetime:
        self.at += timedelta(**kwargs)
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def make_settings(**env: str) -> Settings:
    """Settings from the repository's defaults with test secrets."""
    base = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE_URL, "SECRET_KEY": "test"}
    base.update(env)
    return settings_module.load(base)


def adviser(
    session: Session,
    name: str,
    phone: str,
    office: str,
    day: date,
    start: time = time(9),
    end: time = time(17),
    now: datetime | None = None,
) -> Adviser:
    """An adviser with one shift at `office` on `day`."""
    stamp = now or datetime(2026, 1, 1, tzinfo=LONDON)
    person = Adviser(
        name=name, name_key=name_key(name), phone=phone, created_at=stamp, updated_at=stamp
    )
    session.add(person)
    session.flush()
    shift(session, person, office, day, start, end)
    return person


def shift(
    session: Session,
    person: Adviser,
    office: str,
    day: date,
    start: time = time(9),
    end: time = time(17),
) -> Shift:
    """One more shift for an adviser."""
    added = Shift(
        adviser_id=person.id,
        office=office,
        day=day,
        start=start,
        end=end,
        starts_at=local_instant(day, start, LONDON),
        ends_at=local_instant(day, end, LONDON),
        duty_officer=False,
    )
    session.add(added)
    session.flush()
    return added


def signed_post(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    base_url: str = BASE_URL,
) -> TestResponse:
    """POST form parameters to `path`, signed for the public URL as Twilio would sign them."""
    signature = RequestValidator(token).compute_signature(base_url + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def played_call(
    session: Session,
    settings: Settings,
    sid: str,
    to_number: str,
    at: datetime,
    *,
    answered_after: float | None = None,
    talk: float = 0,
    machine_after: float | None = None,
    message: bool = False,
    hang_up_after: float | None = None,
    ring: bool = True,
    caller: str | None = "+447700900123",
) -> Call:
    """A call played through the call log's services: it arrives at `at`, rings the next free
    adviser (unless `ring` is False), then is accepted after `answered_after` seconds and talks
    for `talk`, or reaches the answer machine after `machine_after` (leaving a message if
    `message`), or the caller hangs up after `hang_up_after`. With none of these it is still
    going on."""
    from calls import ringing
    from calls import service as calls

    call, _ = calls.record_incoming(session, settings, sid, caller, to_number, at)
    rung = ringing.ring_next(session, settings, call, at) if ring else None
    if ring and rung is None:
        raise AssertionError("nobody was free to ring")
    end: datetime | None = None
    if answered_after is not None:
        assert rung is not None
        assert ringing.leg_accepted(session, rung.leg, at + timedelta(seconds=answered_after))
        end = at + timedelta(seconds=answered_after + talk)
    elif machine_after is not None:
        calls.entered_answer_machine(session, call, at + timedelta(seconds=machine_after))
        if message:
            calls.message_left(session, call)
        end = at + timedelta(seconds=machine_after + 60)
    elif hang_up_after is not None:
        end = at + timedelta(seconds=hang_up_after)
    if end is not None:
        calls.record_status(session, settings, calls.StatusReport(sid, "completed"), end)
    session.flush()
    return call


def empty_tables(engine: Engine) -> None:
    """Delete every row that tests committed, rows that others refer to last."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
