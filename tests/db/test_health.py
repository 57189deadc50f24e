"""GET /healthz, as a platform's monitor polls it: the database answers, its schema is the one
this code needs, and the scheduler has run lately; 503 naming the check that failed otherwise."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from callbacks.models import JobRun
from helpline.migrate import current_heads
from tests.factories import Clock


def health(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def job_ran(session: Session, clock: Clock, minutes_ago: float, *, ok: bool = True) -> None:
    started = clock() - timedelta(minutes=minutes_ago)
    session.add(
        JobRun(
            name="assign-callbacks",
            started_at=started,
            finished_at=started + timedelta(seconds=1),
            ok=ok,
            summary="",
        )
    )
    session.commit()


def test_all_is_well_when_a_job_ran_in_the_last_minutes(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    job_ran(session, clock, minutes_ago=3)

    status, body = health(client)

    assert status == 200
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["schema"] == {
        "ok": True,
        "revision": current_heads()[0],
        "expected": current_heads()[0],
    }
    scheduler = body["checks"]["scheduler"]
    assert scheduler["ok"] is True and scheduler["within_minutes"] == 10
    assert scheduler["last_run_at"] == (clock() - timedelta(minutes=3, seconds=-1)).isoformat()


def test_a_fresh_database_where_no_job_has_run_yet_says_so(client: FlaskClient) -> None:
    status, body = health(client)

    assert status == 503
    assert body["status"] == "failing" and body["failed"] == ["scheduler"]
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "problem": "no job has run yet: is the clock process (helpline scheduler) running?",
        "last_run_at": None,
        "within_minutes": 10,
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]


def test_a_scheduler_silent_for_longer_than_ten_minutes_fails(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    job_ran(session, clock, minutes_ago=30)
    job_ran(session, clock, minutes_ago=11)

    status, body = health(client)

    assert status == 503 and body["failed"] == ["scheduler"]
    scheduler = body["checks"]["scheduler"]
    assert scheduler["problem"].startswith("no job has run for more than 10 minutes")
    assert scheduler["last_run_at"] == (clock() - timedelta(minutes=11, seconds=-1)).isoformat()


def test_a_failed_job_still_shows_the_scheduler_is_running(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    job_ran(session, clock, minutes_ago=1, ok=False)

    status, _ = health(client)

    assert status == 200  # the job's own failure is in its log and in `helpline jobs list`


def test_a_database_behind_the_code_fails_the_schema_check(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    job_ran(session, clock, minutes_ago=1)
    session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    session.commit()

    status, body = health(client)

    assert status == 503 and body["failed"] == ["schema"]
    assert body["checks"]["schema"]["revision"] == "0001"
    assert body["checks"]["schema"]["expected"] == current_heads()[0]
    assert "helpline db upgrade" in body["checks"]["schema"]["problem"]


def test_a_database_never_migrated_fails_the_schema_check(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    job_ran(session, clock, minutes_ago=1)
    session.execute(text("DELETE FROM alembic_version"))
    session.commit()

    status, body = health(client)

    assert status == 503 and body["failed"] == ["schema"]
    assert body["checks"]["schema"]["revision"] is None
