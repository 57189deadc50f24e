"""Signing in through the council's identity provider: a small OpenID Connect provider of the
test's own, answered through `responses`, signs ID tokens with a key made for the run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Account, AuditEntry, Role
from helpline.app import create_app, make_runtime
from tests.constants import BASE_URL
from tests.factories import Clock, make_settings

ISSUER = "https://id.council.example"
METADATA = f"{ISSUER}/.well-known/openid-configuration"
CLIENT_ID = "helpline-staff"
Make = Callable[..., Account]


class FakeProvider:
    """An identity provider: discovery, keys, and a token endpoint that answers each code
    with the ID token the test arranged for it."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.claims: dict[str, dict[str, object]] = {}
        mock.get(
            METADATA,
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )
        mock.get(f"{ISSUER}/keys", json={"keys": [self.key.as_dict(private=False)]})
        mock.add_callback(responses.POST, f"{ISSUER}/token", callback=self._token)

    def will_answer(self, code: str, **claims: object) -> None:
        self.claims[code] = claims

    def _token(self, request: object) -> tuple[int, dict[str, str], str]:
        form = parse_qs(str(getattr(request, "body", "")))
        claims = self.claims[form["code"][0]]
        issued = int(time.time())
        payload = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "person-1", "iat": issued}
        payload |= {"exp": issued + 300} | claims
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, payload, self.key)
        body = {"access_token": "at", "token_type": "Bearer", "id_token": id_token}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


@pytest.fixture
def provider(twilio: responses.RequestsMock) -> FakeProvider:
    return FakeProvider(twilio)


@pytest.fixture
def oidc_client(
    tmp_path: Path, sessions: sessionmaker[Session], clock: Clock, provider: FakeProvider
) -> Iterator[FlaskClient]:
    config = tmp_path / "oidc.toml"
    config.write_text(
        f'[oidc]\nenabled = true\nmetadata_url = "{METADATA}"\nclient_id = "{CLIENT_ID}"\n',
        encoding="utf-8",
    )
    settings = make_settings(HELPLINE_CONFIG=str(config), OIDC_CLIENT_SECRET="s3cret")
    app = create_app(make_runtime(settings, sessions=sessions, clock=clock))
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_HOST"] = BASE_URL.removeprefix("https://")
    yield client


def through_provider(client: FlaskClient, provider: FakeProvider, **claims: object) -> object:
    """Press the button, let the provider answer with `claims`, and come back."""
    sent = client.get("/sign-in/oidc")
    assert sent.status_code == 302
    asked = parse_qs(urlsplit(sent.headers["Location"]).query)
    assert asked["redirect_uri"] == [f"{BASE_URL}/sign-in/oidc/callback"]
    provider.will_answer("code-1", nonce=asked["nonce"][0], **claims)
    return client.get(f"/sign-in/oidc/callback?code=code-1&state={asked['state'][0]}")


def test_a_verified_email_of_an_account_signs_it_in(
    oidc_client: FlaskClient, provider: FakeProvider, account: Make, session: Session
) -> None:
    account(Role.MANAGER)
    assert "Sign in with your council account" in oidc_client.get("/sign-in").get_data(True)

    back = through_provider(
        oidc_client, provider, email="Manager@Council.example", email_verified=True
    )

    assert back.status_code == 303  # type: ignore[attr-defined]
    assert back.headers["Location"] == "/stats"  # type: ignore[attr-defined]
    assert oidc_client.get("/audit").status_code == 403  # signed in, as a manager
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.action, entry.detail) == ("sign-in", {"method": "oidc"})


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "manager@council.example", "email_verified": False},
        {"email": "nobody@council.example", "email_verified": True},
    ],
)
def test_an_unverified_or_unknown_email_is_refused(
    oidc_client: FlaskClient, provider: FakeProvider, account: Make, claims: dict[str, object]
) -> None:
    account(Role.MANAGER)

    back = through_provider(oidc_client, provider, **claims)

    assert back.status_code == 401  # type: ignore[attr-defined]
    assert "not linked to an active staff account" in back.get_data(True)  # type: ignore[attr-defined]
    assert oidc_client.get("/admin/users").headers["Location"].startswith("/sign-in")


def test_an_answer_for_another_browsers_request_is_refused(
    oidc_client: FlaskClient, provider: FakeProvider, account: Make
) -> None:
    account(Role.ADMIN)
    oidc_client.get("/sign-in/oidc")
    provider.will_answer("code-1", email="admin@council.example", email_verified=True)

    back = oidc_client.get("/sign-in/oidc/callback?code=code-1&state=forged")

    assert back.status_code == 400
    assert oidc_client.get("/admin/users").status_code == 303


def test_without_the_setting_there_is_no_provider_sign_in(staff: FlaskClient) -> None:
    assert staff.get("/sign-in/oidc").status_code == 404
    assert "council account" not in staff.get("/sign-in").get_data(as_text=True)
