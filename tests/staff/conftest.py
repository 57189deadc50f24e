"""The staff pages through Flask's test client: accounts made by the service, signing in by
the form as a browser would (with the page's CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from accounts import service
from accounts.models import Account, Role
from tests.constants import BASE_URL, PASSWORD
from tests.factories import Clock

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: TestResponse) -> str:
    """The CSRF token in a page's first form."""
    found = CSRF.search(page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **kw: str) -> TestResponse:
    """Fill in and send the sign-in form."""
    token = csrf_of(client.get("/sign-in"))
    return client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}, **kw
    )


@pytest.fixture
def staff(client: FlaskClient) -> FlaskClient:
    """The test client, on the service's https address (its cookies are Secure)."""
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_HOST"] = BASE_URL.removeprefix("https://")
    return client


@pytest.fixture
def account(session: Session, clock: Clock) -> Callable[..., Account]:
    """Make an account with a role (committed, so the app's own sessions see it)."""

    def make(role: Role, email: str | None = None, password: str = PASSWORD) -> Account:
        made = service.add(
            session,
            email=email or f"{role.value}@council.example",
            name=f"{role.value.title()} Person",
            role=role,
            password=password,
            adviser=None,
            now=clock(),
        )
        session.commit()
        return made

    return make
