"""Every staff page, opened in Chromium by a role that may see it, is sent with its security
headers and runs without a Content-Security-Policy violation or a console error.

The pages are read from the app's own URL map, so a page added later fails this test until it
is listed here with a role that may open it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from accounts.models import Account, Role
from callbacks import desk
from callbacks.models import Message
from helpline.app import create_app
from helpline.db import unit_of_work
from helpline.staff.web import LANDING
from rota.models import Shift
from tests.browser.conftest import Site, sign_in
from tests.browser.test_callback_pages import leave_message, rota, runtime_of
from tests.constants import PARENT

# Served to the browser but not pages: files, the health check, the plain-text index, and the
# recording (its headers are checked below without opening it as a page).
# Not pages: files, the health check, and downloads (whose headers are checked below).
NOT_PAGES = {
    "/static/<path:filename>",
    "/assets/<path:name>",
    "/healthz",
    "/",
    "/recordings/<sid>",
    "/stats.csv",
}

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def assert_secure_headers(headers: dict[str, str], where: str) -> None:
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "same-origin", where
    assert headers.get("x-frame-options") == "DENY", where


def test_every_staff_page_has_its_headers_and_no_policy_violation(
    page: Any, site: Site, tmp_path: Path
) -> None:
    runtime = runtime_of(site, tmp_path)
    leave_message(site, PARENT)  # before the rota, so that nobody is rung
    rota(runtime)
    with unit_of_work(runtime.sessions) as session:
        message = session.scalars(select(Message)).one()
        alex = session.scalars(
            select(Account.adviser_id).where(Account.email == "adviser@council.example")
        ).one()
        assert message.callback_id is not None and alex is not None
        desk.assign(
            session,
            runtime.settings,
            message.callback_id,
            alex,
            "Bryn Bowen",
            runtime.clock(),
            expected_version=None,
        )
        shift_id = session.scalars(select(Shift.id)).first()
        callback_id, sid = message.callback_id, message.recording_sid
    one_callback = f"/callbacks/{callback_id}"
    visits: dict[str | None, list[str]] = {
        None: ["/sign-in"],
        "adviser@council.example": ["/callbacks/mine", one_callback, "/rota"],
        "duty-officer@council.example": ["/callbacks", one_callback, "/offices", "/rota"],
        "manager@council.example": [LANDING[Role.MANAGER], "/rota"],
        "admin@council.example": ["/admin/users", "/audit", "/offices", f"/rota/shifts/{shift_id}"],
    }
    rules = {
        rule.rule.replace("<int:callback_id>", str(callback_id)).replace(
            "<int:shift_id>", str(shift_id)
        )
        for rule in create_app(runtime).url_map.iter_rules()
        if "GET" in (rule.methods or set()) and rule.rule not in NOT_PAGES
    }
    visited = {path for paths in visits.values() for path in paths}
    assert rules <= visited, f"pages nobody visits here: {sorted(rules - visited)}"

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.context.add_init_script(LISTEN)
    for email, paths in visits.items():
        page.context.clear_cookies()
        if email is not None:
            assert sign_in(page, site, email).status == 303
            errors.clear()  # the landing page is checked below, if this version serves it
        for path in paths:
            if path not in rules:
                continue  # a landing page not built in this version of the service
            answer = page.goto(site.at(path))
            page.wait_for_load_state("networkidle")
            assert answer.status == 200, (email, path, answer.status)
            assert_secure_headers(answer.headers, path)
            assert page.evaluate("window.__violations") == [], path
            assert errors == [], (path, errors)
        if email == "adviser@council.example":
            played = page.request.get(site.at(f"/recordings/{sid}"))
            assert played.status == 200 and played.headers["content-type"].startswith("audio/")
            assert_secure_headers(played.headers, "/recordings")
        if email == "manager@council.example":
            csv = page.request.get(site.at("/stats.csv"))
            assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
            assert_secure_headers(csv.headers, "/stats.csv")
