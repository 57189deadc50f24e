"""Signing in and out of the staff pages."""

from __future__ import annotations

import re

from flask import Blueprint, Response, redirect, request
from flask import session as cookie
from flask.typing import ResponseReturnValue

from accounts import signin
from accounts.models import Role
from helpline.staff.web import LANDING, db, now, render_sign_in, requires, signed_in

bp = Blueprint("staff_auth", __name__)

WRONG = "Enter the email address and password of an active staff account"


# A path on this site: printable ASCII with no spaces (browsers drop tabs and newlines from an
# address, so "/\t/evil.example" would become "//evil.example"), not "//" (another host).
LOCAL_PATH = re.compile(r"/(?![/\\])[!-~]*")


def _next_path(value: str | None) -> str | None:
    """A page of this service to go on to after signing in; never another site."""
    if value and LOCAL_PATH.fullmatch(value) and "\\" not in value:
        return value
    return None


@bp.get("/sign-in")
def sign_in_form() -> ResponseReturnValue:
    """The sign-in page; someone already signed in goes to their first page."""
    found = signed_in()
    if found is not None:
        return redirect(LANDING[Role(found.account.role)], 303)
    return _form(next_path=_next_path(request.args.get("next")))


def _form(
    status: int = 200,
    *,
    email: str = "",
    errors: list[dict[str, str]] | None = None,
    next_path: str | None = None,
) -> tuple[str, int]:
    return render_sign_in(status, errors, email=email, next_path=next_path)


@bp.post("/sign-in")
def sign_in() -> ResponseReturnValue:
    """Check the email and password, then go to the role's first page (or the page asked)."""
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    next_path = _next_path(request.args.get("next"))
    missing = []
    if not email:
        missing.append({"text": "Enter your email address", "href": "#email"})
    if not password:
        missing.append({"text": "Enter your password", "href": "#password"})
    if missing:
        return _form(400, email=email, errors=missing, next_path=next_path)
    outcome = signin.sign_in(db(), email, password, request.remote_addr or "unknown", now())
    if isinstance(outcome, signin.Throttled):
        minutes = -(-outcome.retry_after_s // 60)
        text = f"Too many failed sign-ins. Wait {minutes} minutes, then try again"
        page, status = _form(429, email=email, errors=[{"text": text, "href": "#email"}])
        response = Response(page, status=status)
        response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    if isinstance(outcome, signin.Refused):
        return _form(401, email=email, errors=[{"text": WRONG, "href": "#email"}])
    cookie.clear()
    cookie["token"] = outcome.token
    return redirect(next_path or LANDING[Role(outcome.account.role)], 303)


@bp.post("/sign-out")
@requires()
def sign_out() -> ResponseReturnValue:
    """End this browser's session and go back to the sign-in page."""
    found = signed_in()
    if found is not None:
        signin.sign_out(db(), found, now())
    cookie.clear()
    return redirect("/sign-in", 303)
