"""Signing in and out: each role's first page, wrong passwords, throttling, session ends."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Account, AuditEntry, Role
from helpline.app import create_app, make_runtime
from helpline.staff import COOKIE
from tests.constants import PASSWORD
from tests.factories import Clock, make_settings
from tests.staff.conftest import csrf_of, sign_in

Make = Callable[..., Account]
FORWARDED_BY_ONE = {"X-Forwarded-For": "198.51.100.1"}


def actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.ADVISER, "/callbacks/mine"),
        (Role.DUTY_OFFICER, "/callbacks"),
        (Role.MANAGER, "/stats"),
        (Role.ADMIN, "/admin/users"),
    ],
)
def test_each_role_lands_on_its_own_first_page(
    staff: FlaskClient, account: Make, role: Role, landing: str
) -> None:
    account(role)

    answer = sign_in(staff, f"{role.value}@council.example")

    assert answer.status_code == 303
    assert answer.headers["Location"] == landing


def test_the_email_matches_whatever_its_case(
    staff: FlaskClient, account: Make, session: Session
) -> None:
    account(Role.ADMIN)

    answer = sign_in(staff, "  Admin@Council.EXAMPLE ")

    assert answer.headers["Location"] == "/admin/users"
    assert staff.get("/admin/users").status_code == 200
    assert actions(session)[-1] == "sign-in"


def test_a_wrong_password_is_shown_in_an_error_summary_and_audited(
    staff: FlaskClient, account: Make, session: Session
) -> None:
    account(Role.ADMIN)

    answer = sign_in(staff, "admin@council.example", "not-the-password")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert "There is a problem" in page and "govuk-error-summary" in page
    assert "<title>Error: Sign in" in page
    assert staff.get("/admin/users").status_code == 303
    assert actions(session)[-1] == "sign-in-failed"


def test_a_disabled_account_cannot_sign_in(
    staff: FlaskClient, account: Make, session: Session, clock: Clock
) -> None:
    from accounts import service

    service.disable(session, account(Role.MANAGER), clock())
    session.commit()

    assert sign_in(staff, "manager@council.example").status_code == 401


def test_the_session_cookie_is_httponly_lax_and_secure(staff: FlaskClient, account: Make) -> None:
    account(Role.ADMIN)

    answer = sign_in(staff, "admin@council.example")

    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(
    staff: FlaskClient, account: Make, session: Session
) -> None:
    account(Role.ADMIN)
    sign_in(staff, "admin@council.example")
    page = staff.get("/admin/users")
    kept = staff.get_cookie(COOKIE)
    assert kept is not None

    answer = staff.post("/sign-out", data={"csrf_token": csrf_of(page)})

    assert answer.headers["Location"] == "/sign-in"
    staff.set_cookie(COOKIE, kept.value, domain=kept.domain, secure=True)
    assert staff.get("/admin/users").headers["Location"].startswith("/sign-in")
    assert actions(session)[-1] == "sign-out"


def test_a_session_ends_after_an_hour_idle(staff: FlaskClient, account: Make, clock: Clock) -> None:
    account(Role.ADMIN)
    sign_in(staff, "admin@council.example")
    clock.advance(minutes=59)
    assert staff.get("/admin/users").status_code == 200

    clock.advance(minutes=59)
    assert staff.get("/admin/users").status_code == 200

    clock.advance(minutes=61)
    assert staff.get("/admin/users").status_code == 303


def test_a_session_ends_after_twelve_hours_however_busy(
    staff: FlaskClient, account: Make, clock: Clock
) -> None:
    account(Role.ADMIN)
    sign_in(staff, "admin@council.example")
    for _ in range(23):
        clock.advance(minutes=30)
        assert staff.get("/admin/users").status_code == 200

    clock.advance(minutes=30)

    assert staff.get("/admin/users").status_code == 303


def test_five_failures_for_one_account_make_it_wait(
    staff: FlaskClient, account: Make, clock: Clock
) -> None:
    account(Role.ADMIN)
    for _ in range(5):
        assert sign_in(staff, "admin@council.example", "wrong-password!").status_code == 401
        clock.advance(minutes=1)

    refused = sign_in(staff, "admin@council.example", PASSWORD)

    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 11 * 60
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    clock.advance(minutes=11)
    assert sign_in(staff, "admin@council.example", PASSWORD).status_code == 303


def test_five_failures_from_one_address_make_it_wait_for_any_account(
    staff: FlaskClient, account: Make
) -> None:
    account(Role.ADMIN)
    for n in range(5):
        sign_in(staff, f"nobody{n}@council.example", "wrong-password!")

    assert sign_in(staff, "admin@council.example").status_code == 429


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(
    staff: FlaskClient, account: Make
) -> None:
    account(Role.ADMIN)
    for n in range(5):
        sign_in(
            staff,
            f"nobody{n}@council.example",
            "wrong-password!",
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )

    answer = sign_in(staff, "admin@council.example", headers={"X-Forwarded-For": "192.0.2.99"})

    assert answer.status_code == 429


def test_the_sign_in_page_has_the_security_headers(staff: FlaskClient) -> None:
    page = staff.get("/sign-in")

    policy = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    text = page.get_data(as_text=True)
    assert 'label class="govuk-label" for="email"' in text and "Email address" in text
    assert 'for="password"' in text
    assert re.search(
        r'<button type="submit" class="govuk-button"[^>]*>\s*Sign in\s*</button>', text
    )


def test_behind_a_trusted_proxy_the_address_it_reports_is_throttled(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock, account: Make
) -> None:
    config = tmp_path / "proxy.toml"
    config.write_text("[web]\ntrusted_proxies = 1\n", encoding="utf-8")
    settings = make_settings(HELPLINE_CONFIG=str(config))
    client = create_app(make_runtime(settings, sessions=sessions, clock=clock)).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    account(Role.ADMIN)
    for n in range(5):
        sign_in(client, f"nobody{n}@c.example", "wrong-password!", headers=FORWARDED_BY_ONE)

    from_there = sign_in(client, "admin@council.example", headers=FORWARDED_BY_ONE)
    from_elsewhere = sign_in(
        client, "admin@council.example", headers={"X-Forwarded-For": "198.51.100.2"}
    )

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 303
