"""The statistics page: who may see it, that its figures are the statistics' own, its form's
errors, the staffing planner and the audited CSV download."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, AuditEntry, Role
from helpline.cli.base import State
from helpline.cli.stats import stats
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.statistics.figures import collect
from helpline.statistics.report import as_json
from tests.constants import ANN, BEN, HEREFORD, MONDAY, WORCS, london
from tests.factories import adviser, played_call
from tests.staff.conftest import sign_in

Make = Callable[..., Account]
DAY = {"from": "2026-11-30", "to": "2026-11-30"}
FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]*)">([^<]*)<')


def signed_in_as(staff: FlaskClient, account: Make, role: Role) -> FlaskClient:
    account(role)
    assert sign_in(staff, f"{role.value}@council.example").status_code == 303
    return staff


@pytest.fixture
def manager(staff: FlaskClient, account: Make) -> FlaskClient:
    return signed_in_as(staff, account, Role.MANAGER)


@pytest.fixture
def monday(session: Session, settings: Settings) -> None:
    """Monday morning: Ann (Herefordshire) answers one of her county's calls; Ben
    (Worcestershire) answers one of his after 30 s, and after his shift ends at 09:11 Ann
    answers the next Worcestershire call after 5 s; a Herefordshire caller hangs up after a
    minute."""
    adviser(session, "Ann Archer", ANN, "herefordshire", MONDAY)
    adviser(session, "Ben Brook", BEN, "worcestershire", MONDAY, end=time(9, 11))
    played_call(
        session, settings, "CA1", HEREFORD, london(MONDAY, 9, 5), answered_after=10, talk=60
    )
    played_call(session, settings, "CA2", WORCS, london(MONDAY, 9, 10), answered_after=30, talk=60)
    played_call(session, settings, "CA3", WORCS, london(MONDAY, 9, 12), answered_after=5, talk=90)
    played_call(session, settings, "CA4", HEREFORD, london(MONDAY, 9, 40), hang_up_after=60)
    session.commit()


def figures_on(page: str) -> dict[str, tuple[str, str]]:
    """Each figure the page marks: its path, the value it stands for, and the text shown."""
    return {path: (value, html.unescape(text)) for path, value, text in FIGURE.findall(page)}


def expected(data: dict[str, Any], path: str) -> Any:
    """The JSON's value at a page figure's path."""
    parts = path.split(".")
    if parts[0] == "hour_of_week":
        office, weekday, hour = parts[1], int(parts[2]), int(parts[3])
        found = [
            h["received"]
            for h in data["hour_of_week"]
            if (h["office"], h["weekday"], h["hour"]) == (office, weekday, hour)
        ]
        return sum(found)
    value: Any = data
    for part in parts:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADVISER, 403), (Role.DUTY_OFFICER, 200), (Role.MANAGER, 200), (Role.ADMIN, 200)],
)
def test_who_may_see_the_statistics(
    staff: FlaskClient, account: Make, role: Role, status: int
) -> None:
    signed_in_as(staff, account, role)

    assert staff.get("/stats").status_code == status
    assert staff.get("/stats.csv").status_code == status


def test_signed_out_people_are_sent_to_sign_in(staff: FlaskClient) -> None:
    for path in ("/stats", "/stats.csv"):
        found = staff.get(path)
        assert found.status_code == 303
        assert "/sign-in" in found.headers["Location"]


def test_a_manager_lands_on_the_last_28_days(staff: FlaskClient, account: Make) -> None:
    account(Role.MANAGER)
    signed = sign_in(staff, "manager@council.example")
    assert signed.headers["Location"].endswith("/stats")

    page = staff.get("/stats").get_data(as_text=True)

    assert 'name="from" type="date" value="2026-11-03"' in page
    assert 'name="to" type="date" value="2026-11-30"' in page
    assert "3 November 2026 to 30 November 2026" in page


@pytest.mark.usefixtures("monday")
def test_the_figures_on_the_page_are_those_of_the_json(
    manager: FlaskClient, session: Session, settings: Settings
) -> None:
    data = as_json(collect(session, settings, MONDAY, MONDAY))

    page = manager.get("/stats", query_string=DAY).get_data(as_text=True)

    shown = figures_on(page)
    for path, (value, _text) in shown.items():
        if path.startswith("plan."):
            continue
        want = expected(data, path)
        assert value == ("" if want is None else str(want)), path
    for key, found in data["offices"].items():
        for measure in found["calls"]:
            assert f"offices.{key}.calls.{measure}" in shown
        for measure in found["callbacks"]:
            assert f"offices.{key}.callbacks.{measure}" in shown
    for team, work in data["teams"].items():
        for measure in work:
            assert f"teams.{team}.{measure}" in shown
    assert len([p for p in shown if p.startswith("advisers.")]) == 3 * len(data["advisers"])
    # What a person reads: Herefordshire's service level and talk, Ann's row.
    assert shown["offices.herefordshire.calls.received"] == ("2", "2")
    assert shown["offices.herefordshire.service_level"] == ("0.5", "50.0%")
    assert shown["offices.worcestershire.average_speed_of_answer_s"][1] == "17.5 s"
    assert shown["teams.herefordshire.calls_answered_for_partner"] == ("1", "1")
    assert shown["offices.worcestershire.calls.answered_by_partner"] == ("1", "1")
    assert shown["teams.herefordshire.talk_seconds"] == ("150", "2 min 30 s")
    assert shown["hour_of_week.worcestershire.0.9"] == ("2", "2")
    assert "Ann Archer" in page
    assert f"T is {settings.statistics.answer_within_s} seconds" in page


@pytest.mark.usefixtures("monday")
def test_one_county_shows_its_figures_alone(manager: FlaskClient) -> None:
    page = manager.get("/stats", query_string={**DAY, "office": "worcestershire"})

    shown = figures_on(page.get_data(as_text=True))
    assert shown["offices.worcestershire.calls.received"][0] == "2"
    assert not [p for p in shown if p.startswith("offices.herefordshire")]
    assert "Ann Archer" not in page.get_data(as_text=True)


@pytest.mark.usefixtures("monday")
def test_the_page_has_charts_beside_their_tables(manager: FlaskClient) -> None:
    page = manager.get("/stats", query_string=DAY).get_data(as_text=True)

    charts = re.findall(r'<svg class="stats-chart" role="img" aria-labelledby="([^"]+)"', page)
    assert len(charts) == 3  # the outcomes, and the hours of each county
    assert (
        "<title>Herefordshire SENDIASS, Abandoned: 1</title>" in page
        or "Abandoned: 1</title>" in page
    )
    assert 'id="calls-table"' in page
    assert "style=" not in page


@pytest.mark.usefixtures("monday")
def test_the_planner_shows_what_pooling_saves(manager: FlaskClient) -> None:
    page = manager.get("/stats", query_string={**DAY, "target": "0.8"}).get_data(as_text=True)

    shown = figures_on(page)
    apart = int(shown["plan.0.9.apart"][0])
    pooled = int(shown["plan.0.9.pooled"][0])
    assert apart == int(shown["plan.0.9.herefordshire"][0]) + int(
        shown["plan.0.9.worcestershire"][0]
    )
    assert pooled <= apart
    assert int(shown["plan.0.9.saving"][0]) == apart - pooled
    summary = re.search(r'id="planner-summary">([^<]+)<', page)
    assert summary and "Monday 09:00" in summary.group(1)
    assert f"sharing saves {apart - pooled}" in summary.group(1)


def test_the_plain_planner_gives_the_erlang_c_table(manager: FlaskClient) -> None:
    query = {"calls_per_hour": "720", "handle_seconds": "240", "answer_within": "20"}
    page = manager.get("/stats", query_string={**query, "plan_target": "0.8"})

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Traffic 48 erlangs: 54 advisers needed for 80.0% of calls" in text
    table = text[text.index('id="plain-table"') :]
    rows = re.findall(r"<td[^>]*>(\d+)</td>\s*<td[^>]*>([\d.]+)</td>", table)
    assert [int(n) for n, _ in rows] == list(range(49, 58))
    assert ("55", "0.2387") in rows


@pytest.mark.parametrize(
    ("query", "message", "field"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "To must be the same as or after From", "to"),
        ({"from": "2026-02-30", "to": "2026-11-01"}, "From must be a real date", "from"),
        ({"from": "2025-01-01", "to": "2026-11-30"}, "The range can be at most 366 days", "to"),
        ({"office": "shropshire"}, "Choose both counties or one of them", "office"),
        ({"target": "80"}, "Target service level must be a fraction", "target"),
        ({"calls_per_hour": "lots"}, "Calls per hour must be a number", "calls_per_hour"),
        ({"calls_per_hour": "10", "plan_target": "1"}, "Target must be a fraction", "plan_target"),
        (
            {"calls_per_hour": "1e9", "handle_seconds": "60"},
            "Calls per hour must be at most 5000",
            "calls_per_hour",
        ),
        ({"calls_per_hour": "10"}, "Enter handle seconds", "handle_seconds"),
    ],
)
def test_form_errors_are_summarised_and_show_no_figures(
    manager: FlaskClient, query: dict[str, str], message: str, field: str
) -> None:
    page = manager.get("/stats", query_string=query)

    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "There is a problem" in text
    assert f'href="#{field}">{message}' in text
    assert text.count(message) == 2  # the summary, and beside the field
    assert "<title>Error: Statistics" in text


def test_a_get_form_needs_no_csrf_token(manager: FlaskClient) -> None:
    page = manager.get("/stats", query_string=DAY)

    assert page.status_code == 200
    form = re.search(r'<form method="get" action="/stats"[^>]*>(.*?)</form>', page.text, re.S)
    assert form and "csrf_token" not in form.group(1)


@pytest.mark.usefixtures("monday")
def test_the_csv_download_is_the_cli_csv_and_is_audited(
    manager: FlaskClient, session: Session, runtime: Runtime
) -> None:
    query = {**DAY, "office": "herefordshire"}

    got = manager.get("/stats.csv", query_string=query)

    assert got.status_code == 200
    assert got.mimetype == "text/csv"
    assert got.headers["Content-Disposition"] == (
        'attachment; filename="helpline-stats-2026-11-30-to-2026-11-30-herefordshire.csv"'
    )
    state = State(demo=False)
    state._runtime = runtime  # the command on the test's own database connection
    args = ["--from", DAY["from"], "--to", DAY["to"], "--csv", "--office", "herefordshire"]
    cli = CliRunner().invoke(stats, args, obj=state)
    assert cli.exit_code == 0, cli.output
    assert got.get_data(as_text=True) == cli.output
    session.expire_all()
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "stats-exported")))
    same_export = (
        "statistics",
        {"from": "2026-11-30", "to": "2026-11-30", "office": "herefordshire"},
    )
    assert [(e.actor_email, (e.subject_type, e.detail)) for e in entries] == [
        ("manager@council.example", same_export),  # the page's download
        ("command line", same_export),  # the command's CSV, compared above
    ]


def test_a_bad_range_downloads_nothing(manager: FlaskClient, session: Session) -> None:
    got = manager.get("/stats.csv", query_string={"from": "2026-11-30", "to": "2026-11-01"})

    assert got.status_code == 400
    assert got.mimetype == "text/html"
    session.expire_all()
    assert not session.scalars(
        select(AuditEntry).where(AuditEntry.action == "stats-exported")
    ).all()
