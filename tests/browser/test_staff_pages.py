"""The staff pages in Chromium: signing in and out, roles, CSRF, throttling and accessibility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site, assert_accessible, sign_in


@pytest.mark.parametrize(
    ("role", "landing"),
    [("adviser", "/callbacks/mine"), ("duty-officer", "/callbacks"), ("manager", "/stats")],
)
def test_each_role_lands_on_its_own_first_page(
    page: Any, site: Site, role: str, landing: str
) -> None:
    answer = sign_in(page, site, f"{role}@council.example")

    assert answer.status == 303
    assert answer.headers["location"] == landing
    assert page.url == site.at(landing)


def test_an_admin_signs_in_to_staff_accounts_and_signs_out(page: Any, site: Site) -> None:
    sign_in(page, site, "admin@council.example")

    assert page.url == site.at("/admin/users")
    assert page.get_by_role("heading", name="Staff accounts", level=1).is_visible()
    assert page.get_by_text("Signed in as Admin Person").is_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(site.at("/sign-in"))
    page.goto(site.at("/admin/users"))
    assert page.url.startswith(site.at("/sign-in"))


def test_the_sign_in_page_is_styled_and_accessible(page: Any, site: Site) -> None:
    with page.expect_response(lambda r: r.url.endswith("govuk-frontend.min.css")) as css:
        page.goto(site.at("/sign-in"))

    assert css.value.status == 200
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    assert_accessible(page)


def test_a_wrong_password_is_shown_in_an_error_summary(page: Any, site: Site) -> None:
    answer = sign_in(page, site, "admin@council.example", "not-the-password")

    assert answer.status == 401
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "Enter the email address and password" in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert_accessible(page)


def test_an_adviser_is_refused_the_admin_pages(page: Any, site: Site) -> None:
    sign_in(page, site, "adviser@council.example")

    answer = page.goto(site.at("/admin/users"))

    assert answer.status == 403
    assert page.get_by_role("heading", name="You cannot see this page").is_visible()
    assert page.get_by_role("link", name="Staff accounts").count() == 0


def test_a_post_without_the_csrf_token_gets_400_and_changes_nothing(page: Any, site: Site) -> None:
    sign_in(page, site, "admin@council.example")
    form = {"email": "new@council.example", "name": "New", "role": "admin", "adviser": ""}

    answer = page.request.post(
        site.at("/admin/users"), form=form | {"password": "long-enough-password"}
    )

    assert answer.status == 400
    page.goto(site.at("/admin/users"))
    assert page.get_by_text("new@council.example").count() == 0


def test_an_admin_adds_an_account_and_the_audit_log_shows_it(page: Any, site: Site) -> None:
    sign_in(page, site, "admin@council.example")
    page.get_by_label("Name", exact=True).fill("Nia Nash")
    page.get_by_label("Email address").fill("nia@council.example")
    page.get_by_label("Role", exact=True).select_option("manager")
    page.get_by_label("Password", exact=True).fill("long-enough-password")
    page.get_by_role("button", name="Add account").click()
    page.wait_for_url(site.at("/admin/users?done=added"))
    assert page.get_by_role("cell", name="nia@council.example").is_visible()

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(site.at("/audit"))

    first_row = page.locator("tbody tr").first
    assert "account-added" in first_row.inner_text()
    assert_accessible(page)


def test_five_failed_sign_ins_make_the_sixth_wait(page: Any, site: Site) -> None:
    for _ in range(5):
        assert sign_in(page, site, "manager@council.example", "wrong-password!").status == 401

    answer = sign_in(page, site, "manager@council.example")

    assert answer.status == 429
    assert 0 < int(answer.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins" in page.locator(".govuk-error-summary").inner_text()
