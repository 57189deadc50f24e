"""The rota and offices pages in Chromium: uploading a rota, closing and reopening an office,
who is refused, and accessibility in each state."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.browser.conftest import Site, assert_accessible, sign_in

HEADER = "name,phone,office,date,start,end,duty_officer\n"


def tomorrow() -> str:
    """A date in this fortnight still to come, whatever day the test runs (the site's clock is
    the real one)."""
    return (date.today() + timedelta(days=1)).isoformat()


def choose_file(page: Any, text: str) -> None:
    page.get_by_label("Rota CSV file").set_input_files(
        files=[{"name": "rota.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )


def test_an_admin_uploads_a_rota_with_a_mistake_then_a_good_one(page: Any, site: Site) -> None:
    sign_in(page, site, "admin@council.example")
    page.goto(site.at("/rota"))
    assert_accessible(page)
    day = tomorrow()

    choose_file(
        page,
        HEADER
        + f"Alex Adams,+447700900001,herefordshire,{day},09:00,17:00,no\n"
        + f"Bryn Bowen,+447700900002,nowhere,{day},09:00,17:00,no\n",
    )
    page.get_by_role("button", name="Upload rota").click()
    page.wait_for_load_state()

    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "line 3, office: no office 'nowhere'" in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert page.get_by_role("cell", name="Alex Adams").count() == 0
    assert_accessible(page)

    choose_file(
        page,
        HEADER
        + f"Alex Adams,+447700900001,herefordshire,{day},09:00,17:00,yes\n"
        + f"Bryn Bowen,+447700900002,worcestershire,{day},12:00,17:00,no\n",
    )
    page.get_by_role("button", name="Upload rota").click()
    page.wait_for_url(site.at("/rota"))

    assert "added 2 shifts" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_role("rowheader", name="Alex Adams").is_visible()
    assert page.get_by_role("rowheader", name="Bryn Bowen").is_visible()
    assert_accessible(page)


def test_an_adviser_sees_the_rota_without_the_forms(page: Any, site: Site) -> None:
    sign_in(page, site, "adviser@council.example")

    answer = page.goto(site.at("/rota"))

    assert answer.status == 200
    assert page.get_by_role("heading", name="Rota", level=1).is_visible()
    assert page.get_by_role("button", name="Upload rota").count() == 0
    assert_accessible(page)


def test_a_duty_officer_closes_an_office_and_reopens_it(page: Any, site: Site) -> None:
    sign_in(page, site, "duty-officer@council.example")
    page.goto(site.at("/offices"))
    assert_accessible(page)
    herefordshire = page.locator("section", has=page.locator("#office-herefordshire"))

    herefordshire.get_by_label("Reopens on (date)").fill("2020-01-01")
    herefordshire.get_by_role("button", name="Close Herefordshire").click()
    page.wait_for_load_state()
    assert "The closure must end in the future" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    herefordshire = page.locator("section", has=page.locator("#office-herefordshire"))
    herefordshire.get_by_label("Reopens on (date)").fill("")
    herefordshire.get_by_label("Reason").fill("Staff training")
    herefordshire.get_by_role("button", name="Close Herefordshire").click()
    page.wait_for_url(site.at("/offices"))

    herefordshire = page.locator("section", has=page.locator("#office-herefordshire"))
    assert (
        "Herefordshire is closed until further notice."
        in page.locator(".govuk-notification-banner").inner_text()
    )
    assert herefordshire.get_by_text("Closed now").is_visible()
    assert herefordshire.get_by_role("cell", name="Staff training").is_visible()
    assert_accessible(page)

    herefordshire.get_by_role("button", name="Reopen Herefordshire").click()
    page.wait_for_url(site.at("/offices"))

    herefordshire = page.locator("section", has=page.locator("#office-herefordshire"))
    assert "Herefordshire is reopened" in page.locator(".govuk-notification-banner").inner_text()
    assert herefordshire.get_by_text("No closures in force or to come.").is_visible()


def test_an_adviser_is_refused_the_offices_page(page: Any, site: Site) -> None:
    sign_in(page, site, "adviser@council.example")

    answer = page.goto(site.at("/offices"))

    assert answer.status == 403
    assert page.get_by_role("heading", name="You cannot see this page").is_visible()
    assert page.get_by_role("link", name="Offices").count() == 0
