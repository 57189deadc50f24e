"""The statistics page in Chromium: a manager lands on it, reads the charts and tables, changes
the range, downloads the CSV, and makes a mistake in the form; accessible in each state."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpline.db import make_engine, session_factory
from tests.browser.conftest import Site, assert_accessible, sign_in
from tests.constants import ANN, BEN, HEREFORD, WORCS, london
from tests.factories import adviser, make_settings, played_call


@pytest.fixture
def calls(site: Site, tmp_path: Path) -> date:
    """Calls of the last weekday before today in the site's database (its clock is the real
    one): two answered for Herefordshire and one for Worcestershire, and a Herefordshire
    caller who hung up."""
    url = f"sqlite:///{tmp_path}/browser.sqlite3"
    day = date.today() - timedelta(days=1)
    while day.weekday() > 4:
        day -= timedelta(days=1)
    engine = make_engine(url)
    settings = make_settings(DATABASE_URL=url, PUBLIC_BASE_URL=site.url)
    with session_factory(engine)() as session:
        adviser(session, "Ann Archer", ANN, "herefordshire", day)
        adviser(session, "Ben Brook", BEN, "worcestershire", day)
        played_call(session, settings, "CA1", HEREFORD, london(day, 10), answered_after=8, talk=240)
        played_call(session, settings, "CA2", HEREFORD, london(day, 11), answered_after=25, talk=60)
        played_call(session, settings, "CA3", WORCS, london(day, 10, 30), answered_after=4, talk=90)
        played_call(session, settings, "CA4", HEREFORD, london(day, 12), hang_up_after=40)
        session.commit()
    engine.dispose()
    return day


def figure(page: Any, path: str) -> str:
    """The text of the page's cell for one figure of the statistics."""
    text: str = page.locator(f'[data-figure="{path}"]').inner_text()
    return text.strip()


def test_a_manager_reads_the_figures_changes_the_range_and_downloads_them(
    page: Any, site: Site, calls: date
) -> None:
    sign_in(page, site, "manager@council.example")

    assert page.url == site.at("/stats")
    assert page.get_by_role("heading", name="Statistics", level=1).is_visible()
    assert page.get_by_role(
        "img", name="Outcomes of the calls to each county's number"
    ).is_visible()
    assert page.get_by_role("img", name="Calls to Herefordshire by hour of the week").is_visible()
    assert page.locator('svg[role="img"]').count() == 3
    assert figure(page, "offices.herefordshire.calls.received") == "3"
    assert figure(page, "offices.herefordshire.calls.abandoned") == "1"
    assert figure(page, "offices.worcestershire.calls.answered") == "1"
    assert page.get_by_role("rowheader", name="Ann Archer").is_visible()
    assert page.locator("#planner-table").is_visible()
    assert_accessible(page)

    today = date.today()
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show statistics").click()
    page.wait_for_load_state()

    assert f"from={today.isoformat()}" in page.url
    assert figure(page, "offices.herefordshire.calls.received") == "0"
    assert "nothing to plan from" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_label("From", exact=True).fill(calls.isoformat())
    page.get_by_label("To", exact=True).fill(calls.isoformat())
    page.get_by_label("County", exact=True).select_option(label="Herefordshire")
    page.get_by_role("button", name="Show statistics").click()
    page.wait_for_load_state()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download these figures as CSV").click()
    download = downloading.value

    assert download.suggested_filename == f"helpline-stats-{calls}-to-{calls}-herefordshire.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    found = {(r["section"], r["office"], r["measure"]): r["value"] for r in rows}
    assert found[("calls", "herefordshire", "received")] == "3"
    assert {r["office"] for r in rows if r["section"] == "calls"} == {"herefordshire"}


def test_a_mistake_in_the_range_is_summarised_and_accessible(page: Any, site: Site) -> None:
    sign_in(page, site, "duty-officer@council.example")
    page.goto(site.at("/stats"))

    page.get_by_label("From", exact=True).fill("2026-11-30")
    page.get_by_label("To", exact=True).fill("2026-11-01")
    page.get_by_role("button", name="Show statistics").click()
    page.wait_for_load_state()

    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "To must be the same as or after From" in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert page.locator('svg[role="img"]').count() == 0
    assert_accessible(page)


def test_the_plain_planner_answers_in_the_page(page: Any, site: Site) -> None:
    sign_in(page, site, "admin@council.example")
    page.goto(site.at("/stats"))

    page.get_by_label("Calls per hour").fill("720")
    page.get_by_label("Handle seconds").fill("240")
    page.get_by_role("button", name="Plan").click()
    page.wait_for_load_state()

    assert "54 advisers needed" in page.locator("#plain-summary").inner_text()
    assert page.locator("#plain-table tbody tr").count() == 9
    assert_accessible(page)


def test_an_adviser_cannot_see_the_statistics(page: Any, site: Site) -> None:
    sign_in(page, site, "adviser@council.example")

    answer = page.goto(site.at("/stats"))

    assert answer.status == 403
