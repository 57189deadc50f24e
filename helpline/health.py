"""The health check a platform's monitor polls: the database answers, its schema is the one this
code needs, and the scheduler has run lately. Three small indexed queries, so it stays fast."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from callbacks.models import JobRun
from helpline.migrate import current_heads

Check = dict[str, Any]


def _schema(session: Session) -> Check:
    expected = ",".join(sorted(current_heads()))
    try:
        with session.begin_nested():  # a missing table must not spoil the checks after it
            rows = session.execute(text("SELECT version_num FROM alembic_version")).scalars()
            revision = ",".join(sorted(rows)) or None
    except Exception:
        revision = None
    check: Check = {"ok": revision == expected, "revision": revision, "expected": expected}
    if not check["ok"]:
        at = f"is at {revision}" if revision else "has no schema"
        check["problem"] = f"the database {at}; this code needs {expected}: run helpline db upgrade"
    return check


def _scheduler(session: Session, now: datetime, within_minutes: int) -> Check:
    # The newest run by primary key: an index lookup however long the table grows.
    latest = session.execute(
        select(JobRun.started_at, JobRun.finished_at).order_by(JobRun.id.desc()).limit(1)
    ).first()
    last = (latest.finished_at or latest.started_at) if latest else None
    check: Check = {
        "ok": last is not None and now - last <= timedelta(minutes=within_minutes),
        "last_run_at": last.isoformat() if last else None,
        "within_minutes": within_minutes,
    }
    if last is None:
        check["problem"] = "no job has run yet: is the clock process (helpline scheduler) running?"
    elif not check["ok"]:
        check["problem"] = (
            f"no job has run for more than {within_minutes} minutes: "
            "is the clock process (helpline scheduler) running?"
        )
    return check


def check(session: Session, now: datetime, scheduler_within_minutes: int) -> dict[str, Any]:
    """Each check's result, which failed, and an overall status ("ok" or "failing")."""
    checks: dict[str, Check]
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        not_checked = {"ok": None, "problem": "not checked: the database is unavailable"}
        checks = {
            "database": {"ok": False, "problem": f"unavailable ({type(exc).__name__})"},
            "schema": dict(not_checked),
            "scheduler": dict(not_checked),
        }
    else:
        checks = {
            "database": {"ok": True},
            "schema": _schema(session),
            "scheduler": _scheduler(session, now, scheduler_within_minutes),
        }
    failed = [name for name, result in checks.items() if result["ok"] is False]
    return {"status": "failing" if failed else "ok", "failed": failed, "checks": checks}
