"""Who gave an attempt its outcome is kept on the attempt ('twilio' for Twilio's automatic
report, 'adviser' for a person's word), so the rule that an adviser's word replaces an automatic
outcome for the same attempt reads the attempt rather than the audit events; existing attempts
take it from their events when the database is upgraded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import JSON, bindparam, delete, inspect, text
from sqlalchemy.orm import Session

from callbacks import attempts, filing
from callbacks.models import CallbackEvent
from helpline.db import UTCDateTime, make_engine
from helpline.migrate import alembic_config, upgrade
from helpline.settings import Settings
from tests.factories import Clock, adviser

PARENT = "+447700900123"


def test_an_automatic_outcome_and_the_advisers_word_that_replaces_it_say_who_gave_them(
    session: Session, settings: Settings, clock: Clock
) -> None:
    alex = adviser(session, "Alex Adams", "+447700900001", "herefordshire", date(2026, 11, 30))
    callback, _ = filing.callback_for(session, settings, PARENT, "herefordshire", clock())
    attempt = attempts.start_attempt(session, callback, alex, "Alex Adams", clock())
    attempts.record_outcome(
        session, settings, callback, "no-answer", "service", clock(), automatic=True
    )
    assert (attempt.outcome, attempt.outcome_source) == ("no-answer", "twilio")
    # The audit trail is not what decides: with its events gone, the word still replaces.
    session.execute(delete(CallbackEvent))

    assert attempts.record_outcome(session, settings, callback, "spoke", "Alex Adams", clock()) == (
        "completed"
    )

    assert [(a.outcome, a.outcome_source) for a in callback.attempts] == [("spoke", "adviser")]
    # A further word is about another attempt: the adviser's own outcome is not replaced.
    assert attempts.counted_attempts(callback) == 1


def test_upgrading_gives_existing_attempts_the_source_of_their_outcome(fresh_url: str) -> None:
    command.upgrade(alembic_config(fresh_url), "0006")
    engine = make_engine(fresh_url)
    at = datetime(2026, 11, 30, 10, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO callback (id, phone, office, status, due_at, created_at, version) "
                "VALUES (1, '+447700900123', 'herefordshire', 'open', :at, :at, 1)"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO attempt (id, callback_id, started_at, placed, outcome) "
                "VALUES (:id, 1, :at, true, :outcome)"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            [
                {"id": 1, "at": at, "outcome": "no-answer"},  # Twilio's, never confirmed
                {"id": 2, "at": at, "outcome": "spoke"},  # Twilio's, then the adviser's word
                {"id": 3, "at": at, "outcome": "left-message"},  # the adviser's
                {"id": 4, "at": at, "outcome": "adviser-missed"},  # not one a word replaces
                {"id": 5, "at": at, "outcome": None},  # none yet
                {"id": 6, "at": at, "outcome": "no-answer"},  # no event says whose: a person's
            ],
        )
        conn.execute(
            text(
                "INSERT INTO callback_event (id, callback_id, kind, actor, at, detail) "
                "VALUES (:id, 1, :kind, 'service', :at, :detail)"
            ).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("detail", type_=JSON())),
            [
                {"id": event_id, "kind": kind, "at": at, "detail": detail}
                for event_id, kind, detail in [
                    (1, "outcome-no-answer", {"attempt_id": 1, "automatic": True}),
                    (2, "outcome-no-answer", {"attempt_id": 2, "automatic": True}),
                    (3, "outcome-spoke", {"attempt_id": 2, "replaced": "no-answer"}),
                    (4, "outcome-left-message", {"attempt_id": 3, "status": "open"}),
                    (5, "adviser-missed", {"attempt_id": 4}),
                    (6, "note", {"attempt_id": 1, "automatic": False}),
                ]
            ],
        )
    engine.dispose()

    upgrade(fresh_url)

    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, outcome_source FROM attempt ORDER BY id")).all() == [
            (1, "twilio"),
            (2, "adviser"),
            (3, "adviser"),
            (4, None),
            (5, None),
            (6, "adviser"),
        ]
    engine.dispose()
    command.downgrade(alembic_config(fresh_url), "0006")
    engine = make_engine(fresh_url)
    assert "outcome_source" not in {c["name"] for c in inspect(engine).get_columns("attempt")}
    engine.dispose()
