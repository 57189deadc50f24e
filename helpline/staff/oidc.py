"""Signing in through the council's identity provider (OpenID Connect), when [oidc] is on.

The provider's ID token is checked by Authlib (signature from its published keys, issuer,
audience, expiry and the nonce of this browser's request); a verified email that belongs to
an active account signs that account in, and anything else is refused.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue

from accounts import signin
from accounts.models import Role
from helpline.settings import Settings
from helpline.staff.web import LANDING, db, now, render_sign_in, runtime

log = logging.getLogger("helpline.staff")

bp = Blueprint("staff_oidc", __name__)
CLIENT = "helpline_oidc"
METHOD = "oidc"
REFUSED = "Your council account is not linked to an active staff account here: ask an administrator"
FAILED = "Signing in with your council account did not work. Try again"


def install(app: Flask, settings: Settings) -> None:
    """Offer sign-in through the identity provider when the settings switch it on."""
    if not settings.oidc.enabled:
        return
    oauth = OAuth(app)
    app.extensions[CLIENT] = oauth.register(
        "council",
        client_id=settings.oidc.client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc.metadata_url,
        client_kwargs={"scope": "openid email profile"},
    )
    app.register_blueprint(bp)


def _client() -> Any:
    return current_app.extensions[CLIENT]


@bp.get("/sign-in/oidc")
def start() -> ResponseReturnValue:
    """Send the browser to the identity provider."""
    base = runtime().settings.public_base_url
    callback = f"{base}/sign-in/oidc/callback" if base else None
    if callback is None:
        callback = url_for("staff_oidc.callback", _external=True)
    response: ResponseReturnValue = _client().authorize_redirect(callback)
    return response


@bp.get("/sign-in/oidc/callback")
def callback() -> ResponseReturnValue:
    """The provider's answer: sign in the account whose verified email it gives."""
    try:
        token = _client().authorize_access_token()
    except (OAuthError, ValueError) as exc:
        log.warning("an OpenID Connect sign-in failed: %s", type(exc).__name__)
        return render_sign_in(400, [{"text": FAILED, "href": "#email"}])
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        return render_sign_in(401, [{"text": REFUSED, "href": "#email"}])
    outcome = signin.sign_in_verified(db(), email, METHOD, now())
    if isinstance(outcome, signin.Refused):
        return render_sign_in(401, [{"text": REFUSED, "href": "#email"}])
    cookie.clear()
    cookie["token"] = outcome.token
    return redirect(LANDING[Role(outcome.account.role)], 303)
