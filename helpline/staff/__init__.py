"""The staff pages: sign-in, roles, CSRF, the GOV.UK look, staff accounts and the audit log.

Adding a page
-------------
1. Make a blueprint in a module of this package (e.g. ``helpline/staff/queue.py``)::

       from flask import Blueprint, render_template
       from flask.typing import ResponseReturnValue

       from accounts import audit
       from accounts.models import Role
       from helpline.staff.web import current_account, db, now, requires

       bp = Blueprint("staff_queue", __name__)

       @bp.get("/callbacks")
       @requires(Role.ADVISER, Role.DUTY_OFFICER)
       def queue() -> ResponseReturnValue:
           \"\"\"The open callbacks of both counties.\"\"\"
           return render_template("staff/queue.html", callbacks=some_service(db(), now()))

   and add it to ``BLUEPRINTS`` below.
2. ``requires(*roles)`` (helpline.staff.web): nobody signed in is redirected to /sign-in (and
   back after signing in); a signed-in account of another role gets the 403 page.
   ``requires()`` with no role lets any signed-in account through.
3. ``db()`` is the request's SQLAlchemy session: hand it to one service, which may flush but
   never commits. It is committed after any response below 500 and rolled back otherwise, so a
   service must refuse bad input before changing anything. ``now()`` is the request's time
   from the runtime's clock; ``current_account()`` the signed-in ``accounts.models.Account``
   (``account.adviser_id`` links an adviser of the rota).
4. Audit what staff see or change with ``accounts.audit.record(db(), current_account(),
   "action-name", "subject-type", subject_id, {"plain": "detail"}, at=now())``: never put
   phone numbers, notes or other personal data in the detail; name the subject by its id.
5. Templates go in ``helpline/staff/templates/staff/``; each extends ``"staff/base.html"`` and
   fills ``{% block title %}`` (the page's name; the service's is added) and
   ``{% block content %}``. Pass ``errors=[{"text": ..., "href": "#field-id"}]`` to show the
   GOV.UK error summary. GOV.UK components come from
   ``{% from "govuk_frontend_jinja/components/NAME/macro.html" import govukNAME %}``.
6. Every form that POSTs includes ``{{ csrf_field() }}`` (base.html imports it; in another
   template ``{% from "staff/macros.html" import csrf_field %}``). A POST without the token gets
   400 and changes nothing; only Twilio's webhooks (blueprints of the ``webhooks`` package) are
   exempt.
7. No inline ``<script>`` or ``style=`` attributes: the Content-Security-Policy refuses them.
   Put styles in ``static/staff.css`` and scripts in a file of ``static/`` (served at /assets/).
8. The header's navigation (``web.NAVIGATION``) already lists the pages of PRODUCT.md with the
   roles that may use them, and each role's first page is ``web.LANDING``.
9. Tests: in tests/staff, the ``staff`` client, the ``account(Role.X)`` maker and
   ``sign_in(staff, "x@council.example")`` / ``csrf_of(page)`` from tests/staff/conftest.py; in
   tests/browser, the ``site`` and ``page`` fixtures with ``sign_in`` and
   ``assert_accessible(page)`` (axe: no serious or critical violation).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory
from flask.typing import ResponseReturnValue
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from helpline.staff import (
    admin,
    auth,
    callback,
    offices_pages,
    oidc,
    queue,
    recordings,
    rota_pages,
    stats_pages,
    web,
)

log = logging.getLogger("helpline.staff")

HERE = Path(__file__).resolve().parent
BLUEPRINTS = (
    auth.bp,
    admin.bp,
    queue.bp,
    callback.bp,
    recordings.bp,
    rota_pages.bp,
    offices_pages.bp,
    stats_pages.bp,
)
COOKIE = "helpline_session"
# The GOV.UK Frontend files that `npm ci` puts beside the code (scripts/install).
GOVUK_DIST = Path("node_modules/govuk-frontend/dist/govuk")

assets = Blueprint("staff_assets", __name__)


def asset_folders() -> list[Path]:
    """Where /assets/ files are looked for: GOV.UK's fonts and images, its CSS and JavaScript,
    then the staff pages' own static files."""
    for root in (HERE.parents[1], Path.cwd()):
        dist = root / GOVUK_DIST
        if dist.is_dir():
            return [dist / "assets", dist, HERE / "static"]
    return [HERE / "static"]


@assets.get("/assets/<path:name>")
def asset(name: str) -> ResponseReturnValue:
    """A file of GOV.UK Frontend or of the staff pages."""
    for folder in asset_folders():
        if (folder / name).is_file():
            return send_from_directory(folder, name, max_age=3600)
    abort(404)


def _error(exc: HTTPException) -> ResponseReturnValue:
    titles = {
        400: (
            "The form could not be used",
            "The form had expired or did not come from this "
            "service. Go back, reload the page and try again.",
        ),
        403: (
            "You cannot see this page",
            "Your account's role does not give access to this "
            "page. Ask an administrator if you need it.",
        ),
        404: ("Page not found", "There is no page at this address."),
    }
    title, message = titles.get(exc.code or 500, ("Something went wrong", "Try again later."))
    return web.error_page(exc.code or 500, title, message)


def register(app: Flask) -> None:
    """Add the staff pages to the app: templates, assets, cookies, CSRF and the blueprints."""
    settings = app.extensions["helpline"].settings
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(HERE / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(settings.public_base_url or "").startswith("https://"),
    )
    proxies = settings.web.trusted_proxies
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    if len(asset_folders()) == 1:
        log.warning("GOV.UK Frontend is not installed (run scripts/install): pages are unstyled")
    web.install(app)
    app.register_blueprint(assets)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    oidc.install(app, settings)
    for code in (400, 403, 404):
        app.register_error_handler(code, _error)
