"""What every staff page shares: the request's database session, who is signed in, the role
check, CSRF, security headers and the navigation."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import ParamSpec
from urllib.parse import urlencode

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
)
from flask import (
    session as cookie,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from accounts.models import Account, Role, StaffSession
from accounts.sessions import csrf_matches, resume
from helpline.runtime import Runtime

P = ParamSpec("P")

CSRF_FIELD = "csrf_token"
# Where each role lands after signing in (PRODUCT.md, "Staff pages").
LANDING = {
    Role.ADVISER: "/callbacks/mine",
    Role.DUTY_OFFICER: "/callbacks",
    Role.MANAGER: "/stats",
    Role.ADMIN: "/admin/users",
}
_ALL = frozenset(Role)
# The header's navigation: label, path, and the roles shown the link.
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("My callbacks", "/callbacks/mine", frozenset({Role.ADVISER, Role.DUTY_OFFICER})),
    ("Queue", "/callbacks", frozenset({Role.ADVISER, Role.DUTY_OFFICER})),
    ("Rota", "/rota", _ALL),
    ("Offices", "/offices", frozenset({Role.DUTY_OFFICER, Role.ADMIN})),
    ("Statistics", "/stats", frozenset({Role.DUTY_OFFICER, Role.MANAGER, Role.ADMIN})),
    ("Staff accounts", "/admin/users", frozenset({Role.ADMIN})),
    ("Audit log", "/audit", frozenset({Role.ADMIN})),
)


def runtime() -> Runtime:
    """The runtime the app was created with."""
    value: Runtime = current_app.extensions["helpline"]
    return value


def now() -> datetime:
    """The time of this request, from the runtime's clock."""
    if "staff_now" not in g:
        g.staff_now = runtime().clock()
    value: datetime = g.staff_now
    return value


def db() -> Session:
    """This request's database session: committed after a response below 500, rolled back
    after an error. Views hand it to services, which flush but never commit."""
    if "staff_db" not in g:
        g.staff_db = runtime().sessions()
    value: Session = g.staff_db
    return value


def signed_in() -> StaffSession | None:
    """The live server-side session of this browser, if any."""
    if "staff_session" not in g:
        token = cookie.get("token")
        g.staff_session = resume(db(), token, now()) if isinstance(token, str) else None
    value: StaffSession | None = g.staff_session
    return value


def current_account() -> Account | None:
    """The signed-in account, if any."""
    found = signed_in()
    return found.account if found is not None else None


def current_role() -> Role | None:
    """The signed-in account's role, if any."""
    account = current_account()
    return Role(account.role) if account is not None else None


def requires(
    *roles: Role,
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
    """Let a view through only for a signed-in account with one of `roles`: anyone else is
    sent to sign in, and an account with another role gets a 403 page saying so."""

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            role = current_role()
            if role is None:
                target = request.full_path if request.method == "GET" else request.path
                query = urlencode({"next": target.rstrip("?")})
                return redirect(f"/sign-in?{query}", 303)
            if roles and role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def csrf_token() -> str:
    """The CSRF token for this browser's forms: its session's, or one kept in the signed
    cookie before it signs in (the sign-in form)."""
    found = signed_in()
    if found is not None:
        return found.csrf_token
    token = cookie.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        cookie["csrf"] = token
    return token


def _check_csrf() -> None:
    """Refuse a form POST without this browser's CSRF token; Twilio's webhooks, which prove
    themselves by their signature, are exempt."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    blueprint = current_app.blueprints.get(request.blueprint or "")
    if blueprint is not None and blueprint.import_name.startswith("webhooks."):
        return
    given = request.form.get(CSRF_FIELD)
    found = signed_in()
    expected = found.csrf_token if found is not None else cookie.get("csrf")
    if not isinstance(expected, str) or not csrf_matches(expected, given):
        abort(400)


def _refuse_nul() -> None:
    """Refuse a staff request with a NUL byte in its path, query or form: no text a person
    types holds one, and PostgreSQL refuses to store or compare it (a 500, not a 400)."""
    blueprint = current_app.blueprints.get(request.blueprint or "")
    if blueprint is not None and blueprint.import_name.startswith("webhooks."):
        return
    texts = [request.path]
    for values in (request.args, request.form):
        for key, given in values.lists():
            texts += [key, *given]
    if any("\x00" in text for text in texts):
        abort(400)


def csp_nonce() -> str:
    """This response's nonce for the one inline script of the GOV.UK page template."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    value: str = g.csp_nonce
    return value


def _finish(response: Response) -> Response:
    """Commit the request's work after a good response, and add the security headers."""
    work: Session | None = g.pop("staff_db", None)
    if work is not None:
        g.staff_db_done = work
        if response.status_code < 500:
            work.commit()
        else:
            work.rollback()
    script = f"'self' 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'self'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.blueprint and not request.blueprint.startswith("webhooks"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _close(_exc: BaseException | None) -> None:
    for name in ("staff_db", "staff_db_done"):
        work: Session | None = g.pop(name, None)
        if work is not None:
            work.close()


def home() -> str:
    """The signed-in role's first page (the sign-in page for nobody)."""
    role = current_role()
    return LANDING[role] if role is not None else "/sign-in"


def navigation() -> list[dict[str, object]]:
    """The header's links that the signed-in role may use, the current one marked."""
    role = current_role()
    if role is None:
        return []
    return [
        {"text": text, "href": href, "active": request.path == href}
        for text, href, roles in NAVIGATION
        if role in roles
    ]


def render_sign_in(
    status: int,
    errors: list[dict[str, str]] | None = None,
    *,
    email: str = "",
    next_path: str | None = None,
) -> tuple[str, int]:
    """The sign-in page with `status`, the errors given, and the identity provider's button
    when it is switched on."""
    oidc = runtime().settings.oidc
    page = render_template(
        "staff/sign_in.html",
        email=email,
        errors=errors,
        field_errors={e["href"].lstrip("#"): e["text"] for e in errors or []},
        next_path=next_path,
        oidc_button=oidc.button_text if oidc.enabled else None,
    )
    return page, status


def error_page(status: int, title: str, message: str) -> ResponseReturnValue:
    """A staff page saying what went wrong, with `status`."""
    return render_template("staff/error.html", title=title, message=message), status


class _StaffCookies(SecureCookieSessionInterface):
    """The signed cookie for staff pages only: Twilio's webhooks (everything under /voice/)
    send no cookie and get a null session, so that none of their requests sets up the
    cookie's signing for nothing."""

    def open_session(self, app: Flask, asked: Request) -> SecureCookieSession | None:
        if asked.path.startswith("/voice/"):
            return None  # Flask makes it a null session, which refuses to be written to
        return super().open_session(app, asked)


def install(app: Flask) -> None:
    """Wire the request session, CSRF check, headers and template helpers into `app`."""
    app.session_interface = _StaffCookies()
    app.before_request(_refuse_nul)
    app.before_request(_check_csrf)
    app.after_request(_finish)
    app.teardown_request(_close)
    app.jinja_env.globals.update(
        csrf_token=csrf_token,
        csp_nonce=csp_nonce,
        current_account=current_account,
        navigation=navigation,
        home=home,
        service_name=lambda: runtime().settings.service_name,
    )
