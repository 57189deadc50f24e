"""Every webhook, correctly signed, given generated parameters: odd, missing, huge, unicode.

Twilio sends withheld numbers as placeholders, may add parameters at any time, and retries; a
bug in how one value is read must never reach a caller as Twilio's "application error". For
every route of the webhooks package, with parameters drawn by hypothesis:
- the answer is never a 5xx; a voice webhook answers TwiML (a <Response> document), a status
  or recording callback a 2xx;
- nothing is half-written: the SQL checks below hold after every request;
- the same request again makes no second call, message or callback, and a repeated status or
  recording callback no second event;
- the only failure logged is the service refusing what it cannot do without (BadRequest: no
  usable CallSid, an unknown leg or attempt), never an unexpected exception;
- no caller's number reaches the logs.

Each test seeds one call ringing an adviser and one call-back attempt, then runs every example
inside a savepoint that is rolled back, so each example starts from the same database.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from callbacks import attempts, filing
from calls.models import CallLeg
from helpline.settings import Settings
from rota.service import find_adviser
from tests.constants import ANN, HEREFORD, PARENT, WORCS, parent
from tests.factories import Clock, adviser, signed_post
from tests.webhooks.test_forged_requests import post_routes

SID = "CA" + "ab" * 16  # the seeded call
OTHER_SID = "CA" + "cd" * 16
RECORDING = "RE" + "12" * 16

STATUS_ROUTES = {
    "/voice/status",
    "/voice/leg-status",
    "/voice/recording-status",
    "/voice/callback/status",
}
VOICE_ROUTES = {
    "/voice/incoming",
    "/voice/callback-request",
    "/voice/screen",
    "/voice/screen-answer",
    "/voice/dial-result",
    "/voice/answer-machine",
    "/voice/record",
    "/voice/callback-number",
    "/voice/callback-number-confirm",
    "/voice/recorded",
    "/voice/callback/adviser",
    "/voice/callback/connect",
    "/voice/callback/dialled",
}
SETTINGS = settings(
    max_examples=20,
    deadline=None,  # each example waits on a webhook's worker thread: timings vary
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure is a failure, not luck
)

# The checks that say nothing is half-written: each query counts the rows that break one.
INVARIANTS = {
    "a call without its 'incoming' event": """
        SELECT count(*) FROM call c WHERE NOT EXISTS (
            SELECT 1 FROM call_event e WHERE e.call_sid = c.sid AND e.kind = 'incoming')""",
    "a leg without its call": """
        SELECT count(*) FROM call_leg l WHERE NOT EXISTS (
            SELECT 1 FROM call c WHERE c.id = l.call_id)""",
    "a message without a callback": """
        SELECT count(*) FROM message m WHERE m.callback_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM callback b WHERE b.id = m.callback_id)""",
    "a message without its 'message' event": """
        SELECT count(*) FROM message m WHERE NOT EXISTS (
            SELECT 1 FROM call_event e WHERE e.call_sid = m.call_sid AND e.kind = 'message')""",
    "a message on a call that says none was left": """
        SELECT count(*) FROM message m JOIN call c ON c.id = m.call_id
        WHERE NOT c.message_left""",
    "a callback without any event": """
        SELECT count(*) FROM callback b WHERE NOT EXISTS (
            SELECT 1 FROM callback_event e WHERE e.callback_id = b.id)""",
    "an attempt without its callback": """
        SELECT count(*) FROM attempt a WHERE NOT EXISTS (
            SELECT 1 FROM callback b WHERE b.id = a.callback_id)""",
    "an ended call without an outcome": """
        SELECT count(*) FROM call c WHERE c.ended_at IS NOT NULL AND c.outcome IS NULL""",
}
RECORDS = ("call", "message", "callback", "attempt")
EVENTS = ("call_event", "callback_event")


def broken_invariants(connection: Connection) -> dict[str, int]:
    """The invariants that do not hold, with how many rows break each."""
    counts = {name: connection.scalar(text(sql)) or 0 for name, sql in INVARIANTS.items()}
    return {name: n for name, n in counts.items() if n}


def counts(connection: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each table holds."""
    return {
        table: connection.scalar(select(func.count()).select_from(sql_table(table))) or 0
        for table in tables
    }


# Values Twilio sends, values it might send, and values nobody should.
ODD_TEXT = st.text(max_size=80) | st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)
SIDS = st.one_of(
    st.sampled_from([SID, OTHER_SID, RECORDING, "", " ", "CA", "anonymous", SID.lower()]),
    st.from_regex(r"(CA|RE|AC)[0-9a-f]{32}", fullmatch=True),
    st.text(st.characters(codec="ascii"), max_size=70),
    ODD_TEXT,
    st.just("CA" + "9" * 300),
)
CALLERS = [PARENT, parent(7), "07700900123", "+441632960123"]
NUMBERS = st.one_of(
    st.sampled_from(
        [
            *CALLERS,
            "anonymous",
            "+266696687",
            "Restricted",
            "Unknown",
            "Anonymous",
            "",
            "+7378742833",
            "+2562533",
            "client:adviser",
            "sip:someone@example.test",
            HEREFORD + "\x00",
            "+44\n1632960001",
            HEREFORD,
            WORCS,
        ]
    ),
    st.from_regex(r"\+?[0-9 ()-]{0,40}", fullmatch=True),
    ODD_TEXT,
)
WHOLE_NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=200).map(str),
    st.sampled_from(["", " 5", "5.5", "1e3", "NaN", "-0", "0x10", "\uff19", "\u00b2", "9" * 400]),
    ODD_TEXT,
)
STATUSES = st.one_of(
    st.sampled_from(
        [
            "queued",
            "initiated",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "no-answer",
            "failed",
            "canceled",
            "answered",
            "absent",
            "COMPLETED",
            " completed ",
            "x" * 30,
        ]
    ),
    ODD_TEXT,
)
DIGITS = st.one_of(
    st.sampled_from(["1", "2", "#", "*", "", "07700900123#", "1#", "11", "\u0663", "1 ", "ww1"]),
    st.text(st.sampled_from("0123456789*#wW "), max_size=40),
    ODD_TEXT,
)
URLS = st.sampled_from(["", "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1", "x"])
KNOWN = {
    "CallSid": SIDS,
    "From": NUMBERS,
    "To": NUMBERS,
    "Caller": NUMBERS,
    "Called": NUMBERS,
    "CallStatus": STATUSES,
    "CallDuration": WHOLE_NUMBERS,
    "SequenceNumber": WHOLE_NUMBERS,
    "ParentCallSid": SIDS,
    "Digits": DIGITS,
    "DialCallStatus": STATUSES,
    "DialCallSid": SIDS,
    "DialCallDuration": WHOLE_NUMBERS,
    "RecordingSid": SIDS,
    "RecordingStatus": STATUSES,
    "RecordingDuration": WHOLE_NUMBERS,
    "RecordingUrl": URLS,
    "Timestamp": ODD_TEXT,
    "AccountSid": SIDS,
}
# Parameters Twilio may add one day: a name the service has never heard of.
EXTRA_NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1).filter(
    lambda name: name not in KNOWN
)


# What Twilio really sends, so that most examples get past the first check and reach the
# services; each example then spoils a few of these and drops a few.
PLAUSIBLE = {
    "CallSid": st.sampled_from([SID, OTHER_SID, "CA" + "ef" * 16]),
    "From": st.sampled_from([*CALLERS, "anonymous", "+266696687", "Restricted", ""]),
    "To": st.sampled_from([HEREFORD, WORCS]),
    "CallStatus": st.sampled_from(["ringing", "in-progress", "completed", "no-answer", "busy"]),
    "CallDuration": st.integers(min_value=0, max_value=3600).map(str),
    "SequenceNumber": st.integers(min_value=0, max_value=5).map(str),
    "ParentCallSid": st.sampled_from([SID, OTHER_SID]),
    "Digits": st.sampled_from(["1", "2", "07700900123#", "#"]),
    "DialCallStatus": st.sampled_from(["completed", "no-answer", "busy", "failed", "canceled"]),
    "DialCallSid": st.sampled_from(["CA" + "01" * 16, "CA" + "02" * 16]),
    "DialCallDuration": st.integers(min_value=1, max_value=3600).map(str),
    "RecordingSid": st.sampled_from([RECORDING, "RE" + "34" * 16]),
    "RecordingStatus": st.sampled_from(["completed", "absent", "failed"]),
    "RecordingDuration": st.integers(min_value=1, max_value=300).map(str),
    "RecordingUrl": URLS,
}


@st.composite
def parameters(draw: st.DrawFn) -> dict[str, str]:
    """A webhook's form: a plausible one with a few values spoiled, a few dropped, and perhaps
    parameters the service has never heard of."""
    form = {name: draw(values) for name, values in PLAUSIBLE.items()}
    names = sorted(KNOWN)
    for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        form[name] = draw(KNOWN[name])
    for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        form.pop(name, None)
    form.update(draw(st.dictionaries(EXTRA_NAMES, ODD_TEXT, max_size=3)))
    return form


QUERY_VALUES = st.one_of(st.just("seeded"), st.sampled_from(["0", "-1", "x", "99999", "9" * 40]))


@pytest.fixture
def seeded(
    client: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> dict[str, int]:
    """A live call ringing Ann (one leg), and a call-back attempt by Ann."""
    adviser(session, "Ann Ash", ANN, "herefordshire", date(2026, 11, 30))
    session.commit()
    signed_post(client, "/voice/incoming", {"CallSid": SID, "From": PARENT, "To": HEREFORD})
    leg = session.scalars(select(CallLeg)).one()
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    attempt = attempts.start_attempt(
        session, callback, find_adviser(session, "Ann Ash"), OTHER_SID, clock()
    )
    session.commit()
    return {"leg": leg.id, "attempt": attempt.id}


@contextmanager
def rolled_back(connection: Connection, session: Session) -> Iterator[None]:
    """One example's database work, undone afterwards: the next starts from the seed."""
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        session.expire_all()


class Captured(logging.Handler):
    """Every log line of the service, as written."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def path_for(route: str, ids: dict[str, int], leg: str, attempt: str) -> str:
    """The route with the ids the service writes into its own URLs (seeded or bad ones)."""
    if route.startswith("/voice/callback/"):
        return f"{route}?attempt={ids['attempt'] if attempt == 'seeded' else attempt}"
    if route in (
        "/voice/screen",
        "/voice/screen-answer",
        "/voice/dial-result",
        "/voice/leg-status",
    ):
        return f"{route}?leg={ids['leg'] if leg == 'seeded' else leg}"
    return route


def assert_answered(route: str, response: TestResponse) -> None:
    """A voice webhook answers TwiML; a status or recording callback a 2xx; never a 5xx."""
    assert response.status_code < 500, response.status_code
    if route in STATUS_ROUTES:
        assert 200 <= response.status_code < 300, response.status_code
        return
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"


def test_the_routes_fuzzed_are_every_webhook(app: Flask) -> None:
    # A webhook added later must be classed here, as a voice webhook or a status callback.
    assert set(post_routes(app)) == STATUS_ROUTES | VOICE_ROUTES


@pytest.mark.parametrize("route", sorted(STATUS_ROUTES | VOICE_ROUTES))
def test_a_signed_webhook_with_generated_parameters_is_answered_and_leaves_nothing_half_written(
    client: FlaskClient,
    connection: Connection,
    session: Session,
    seeded: dict[str, int],
    logged: Captured,
    route: str,
) -> None:
    @SETTINGS
    @given(form=parameters(), leg=QUERY_VALUES, attempt=QUERY_VALUES)
    def example(form: dict[str, str], leg: str, attempt: str) -> None:
        path = path_for(route, seeded, leg, attempt)
        with rolled_back(connection, session):
            logged.lines.clear()
            first = signed_post(client, path, form)
            assert_answered(route, first)
            assert broken_invariants(connection) == {}
            records = counts(connection, RECORDS)
            events = counts(connection, EVENTS)
            again = signed_post(client, path, form)
            assert_answered(route, again)
            assert broken_invariants(connection) == {}
            assert counts(connection, RECORDS) == records
            if route in STATUS_ROUTES or route == "/voice/recorded":
                assert counts(connection, EVENTS) == events
            failures = [line for line in logged.lines if " failed: " in line]
            assert [line for line in failures if " failed: BadRequest " not in line] == []
            given_numbers = {form.get(name, "") for name in ("From", "To", "Caller", "Called")}
            for number in given_numbers & set(CALLERS):
                assert not any(number in line for line in logged.lines), number

    example()
