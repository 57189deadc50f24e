"""Who may open which page, CSRF on every form, and the admin's account and audit pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import Account, AuditEntry, Role
from tests.constants import PASSWORD
from tests.factories import Clock
from tests.staff.conftest import csrf_of, sign_in

Make = Callable[..., Account]


def accounts(session: Session) -> dict[str, Account]:
    session.expire_all()
    return {a.email: a for a in session.scalars(select(Account))}


@pytest.fixture
def admin(staff: FlaskClient, account: Make) -> FlaskClient:
    account(Role.ADMIN)
    assert sign_in(staff, "admin@council.example").status_code == 303
    return staff


def test_nobody_signed_in_is_sent_to_sign_in_and_back_afterwards(
    staff: FlaskClient, account: Make
) -> None:
    account(Role.ADMIN)

    answer = staff.get("/audit?page=2")

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/sign-in?next=%2Faudit%3Fpage%3D2"
    form = staff.get(answer.headers["Location"])
    back = staff.post(
        "/sign-in?next=/audit?page=2",
        data={"email": "admin@council.example", "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert back.headers["Location"] == "/audit?page=2"


def test_the_sign_in_page_sends_nobody_to_another_site(staff: FlaskClient, account: Make) -> None:
    account(Role.MANAGER)
    token = csrf_of(staff.get("/sign-in"))

    answer = staff.post(
        "/sign-in?next=//evil.example/",
        data={"email": "manager@council.example", "password": PASSWORD, "csrf_token": token},
    )

    assert answer.headers["Location"] == "/stats"


@pytest.mark.parametrize("role", [Role.ADVISER, Role.DUTY_OFFICER, Role.MANAGER])
@pytest.mark.parametrize("path", ["/admin/users", "/audit"])
def test_only_an_admin_sees_staff_accounts_and_the_audit_log(
    staff: FlaskClient, account: Make, role: Role, path: str
) -> None:
    account(role)
    sign_in(staff, f"{role.value}@council.example")

    answer = staff.get(path)

    assert answer.status_code == 403
    assert "You cannot see this page" in answer.get_data(as_text=True)


def test_the_navigation_shows_only_what_the_role_may_use(staff: FlaskClient, account: Make) -> None:
    account(Role.MANAGER)
    sign_in(staff, "manager@council.example")

    page = staff.get("/admin/users").get_data(as_text=True)

    assert 'href="/stats"' in page and 'href="/rota"' in page
    assert 'href="/admin/users"' not in page and 'href="/callbacks"' not in page
    assert "Signed in as Manager Person" in page and "Sign out" in page


def test_a_post_without_the_csrf_token_gets_400_and_changes_nothing(
    admin: FlaskClient, session: Session
) -> None:
    form = {"email": "new@council.example", "name": "New Person", "role": "manager"}
    form |= {"adviser": "", "password": PASSWORD}

    without = admin.post("/admin/users", data=form)
    wrong = admin.post("/admin/users", data=form | {"csrf_token": "not-the-token"})

    assert without.status_code == 400 and wrong.status_code == 400
    assert "new@council.example" not in accounts(session)
    assert admin.get("/sign-in").status_code == 303  # still signed in: sign-out needs it too
    assert admin.post("/sign-out").status_code == 400


def test_the_sign_in_form_needs_its_csrf_token(staff: FlaskClient, account: Make) -> None:
    account(Role.ADMIN)

    answer = staff.post("/sign-in", data={"email": "admin@council.example", "password": PASSWORD})

    assert answer.status_code == 400
    assert staff.get("/admin/users").status_code == 303


def test_an_admin_adds_an_account_sets_its_role_and_disables_it(
    admin: FlaskClient, session: Session
) -> None:
    token = csrf_of(admin.get("/admin/users"))
    added = admin.post(
        "/admin/users",
        data={
            "email": "Nia@Council.example",
            "name": "Nia Nash",
            "role": "adviser",
            "adviser": "",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert added.headers["Location"] == "/admin/users?done=added"
    nia = accounts(session)["nia@council.example"]
    assert nia.role == "adviser"

    admin.post(f"/admin/users/{nia.id}/role", data={"role": "manager", "csrf_token": token})
    admin.post(f"/admin/users/{nia.id}/disable", data={"csrf_token": token})

    nia = accounts(session)["nia@council.example"]
    assert (nia.role, nia.active) == ("manager", False)
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries[-3:]] == [
        "account-added",
        "account-role-set",
        "account-disabled",
    ]
    assert {e.actor_email for e in entries[-3:]} == {"admin@council.example"}
    assert entries[-2].detail == {"from": "adviser", "to": "manager"}


def test_a_short_password_or_a_taken_email_is_refused_with_an_error_summary(
    admin: FlaskClient, session: Session
) -> None:
    token = csrf_of(admin.get("/admin/users"))
    base = {"name": "Nia Nash", "role": "adviser", "adviser": "", "csrf_token": token}

    short = admin.post("/admin/users", data=base | {"email": "n@c.example", "password": "short"})
    taken = admin.post(
        "/admin/users", data=base | {"email": "ADMIN@council.example", "password": PASSWORD}
    )

    gone = admin.post(
        "/admin/users",
        data=base | {"email": "n@c.example", "password": PASSWORD, "adviser": "99999"},
    )

    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    assert taken.status_code == 400 and "already an account" in taken.get_data(as_text=True)
    assert gone.status_code == 400 and "Choose an adviser" in gone.get_data(as_text=True)
    assert set(accounts(session)) == {"admin@council.example"}


def test_an_admin_cannot_disable_their_own_account(admin: FlaskClient, session: Session) -> None:
    me = accounts(session)["admin@council.example"]

    answer = admin.post(
        f"/admin/users/{me.id}/disable", data={"csrf_token": csrf_of(admin.get("/admin/users"))}
    )

    assert answer.status_code == 400
    assert accounts(session)["admin@council.example"].active


def test_a_role_change_ends_the_accounts_sessions(
    staff: FlaskClient, account: Make, session: Session, clock: Clock
) -> None:
    from accounts import service

    account(Role.ADMIN)
    sign_in(staff, "admin@council.example")
    me = accounts(session)["admin@council.example"]
    service.set_role(session, me, Role.MANAGER, clock())
    session.commit()

    assert staff.get("/audit").headers["Location"].startswith("/sign-in")


def test_the_audit_log_is_newest_first_and_paginated(
    admin: FlaskClient, session: Session, clock: Clock
) -> None:
    for n in range(60):
        clock.advance(seconds=1)
        audit.record(session, None, f"test-{n}", "thing", n, at=clock())
    session.commit()
    total = session.scalar(select(func.count()).select_from(AuditEntry))

    first = admin.get("/audit").get_data(as_text=True)
    second = admin.get("/audit?page=2").get_data(as_text=True)

    assert first.index("test-59") < first.index("test-58")
    assert "test-5<" not in first and "test-5<" in second
    assert f"{total} entries" in first
    assert 'href="/audit?page=2"' in first
