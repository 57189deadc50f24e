"""The staff pages in a real browser: the app served on a free loopback port from a thread,
on a SQLite database of its own, and Debian's Chromium driven by Playwright.

Skipped, saying why, when /usr/bin/chromium is missing (.ci/run installs it). Each test gets a
fresh server and database, since the sign-in throttle counts failures by address and every
request here comes from 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from accounts import service
from accounts.models import Role
from helpline.app import create_app, make_runtime
from helpline.db import unit_of_work
from helpline.migrate import upgrade
from tests.constants import PASSWORD
from tests.factories import make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Site:
    url: str

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, once for the run; every browser test is skipped without it."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The app on a free port, with one account per role (ROLE@council.example)."""
    url = f"sqlite:///{tmp_path}/browser.sqlite3"
    upgrade(url)
    server = make_server("127.0.0.1", 0, app=None, threaded=True)  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{server.server_port}"
    runtime = make_runtime(make_settings(DATABASE_URL=url, PUBLIC_BASE_URL=base))
    with unit_of_work(runtime.sessions) as session:
        for role in Role:
            service.add(
                session,
                email=f"{role.value}@council.example",
                name=f"{role.value.title()} Person",
                role=role,
                password=PASSWORD,
                adviser=None,
                now=runtime.clock(),
            )
    server.app = create_app(runtime)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(base)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; it fails the test on any Content-Security-Policy
    report in the console (a refused script or style)."""
    context = browser.new_context()
    tab = context.new_page()
    refused: list[str] = []
    tab.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    context.close()
    assert refused == []


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []


def sign_in(page: Any, site: Site, email: str, password: str = PASSWORD) -> Any:
    """Fill in and send the sign-in form as a person would; the response to the POST."""
    page.goto(site.at("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return posted.value
