"""The `helpline` text listings show times as people in the offices read them: local time, with
its zone; the --json output keeps ISO 8601 with offsets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from callbacks.models import Callback, JobRun
from calls.models import Call
from helpline.cli import main
from helpline.db import make_engine
from helpline.migrate import upgrade

SUMMER_MORNING = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
WINTER_AFTERNOON = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # 15:30 in London (GMT)


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A database with one call in summer, a callback due in winter and a job run."""
    url = f"sqlite:///{tmp_path}/times.sqlite3"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(
            Call(
                sid="CA" + "1" * 32,
                from_number="+447700900123",
                to_number="+441632960001",
                office="herefordshire",
                status="completed",
                outcome="voicemail",
                started_at=SUMMER_MORNING,
            )
        )
        session.add(
            Callback(
                phone="+447700900123",
                office="herefordshire",
                status="open",
                created_at=SUMMER_MORNING,
                due_at=WINTER_AFTERNOON,
            )
        )
        session.add(
            JobRun(
                name="assign-callbacks",
                started_at=SUMMER_MORNING,
                finished_at=SUMMER_MORNING,
                ok=True,
                summary="assigned 0",
            )
        )
        session.commit()
    engine.dispose()
    return url


def helpline(url: str, *args: str) -> str:
    env = {
        "DATABASE_URL": url,
        "HELPLINE_CONFIG": None,
        "HELPLINE_DEMO": None,
        "HELPLINE_ENV": None,
    }
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_calls_list_shows_local_times(url: str) -> None:
    listed = helpline(url, "calls", "list")

    assert listed.startswith("2026-07-01 10:00 BST")
    assert "+00:00" not in listed
    [call] = json.loads(helpline(url, "calls", "list", "--json"))
    assert call["started_at"] == "2026-07-01T09:00:00+00:00"


def test_callbacks_list_shows_local_deadlines(url: str) -> None:
    listed = helpline(url, "callbacks", "list")

    assert "due 2026-12-03 15:30 GMT" in listed
    assert "+00:00" not in listed


def test_jobs_list_shows_local_times(url: str) -> None:
    listed = helpline(url, "jobs", "list")

    assert "last run 2026-07-01 10:00 BST ok" in listed
    assert "+00:00" not in listed
