"""The callback pages in Chromium: a simulated caller's message worked from the queue to
completed, the queue by keyboard alone, accessibility, and the queue's screenshot."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accounts.models import Account
from callbacks import desk
from helpline.app import make_runtime
from helpline.db import unit_of_work
from helpline.runtime import Runtime
from helpline.simulation.simulator import CallPlayer, HttpTransport, Script
from rota.calendar import local_instant
from rota.models import Adviser, Shift
from rota.service import name_key
from tests.browser.conftest import Site, assert_accessible, sign_in
from tests.constants import ANN, BEN, HEREFORD, PARENT, TOKEN, WORCS, parent
from tests.factories import make_settings

# Where the screenshot of the queue is kept when regenerated (scripts/screenshot-queue).
SCREENSHOT_DIR = "HELPLINE_SCREENSHOT_DIR"


def runtime_of(site: Site, tmp_path: Path) -> Runtime:
    """A runtime on the site's own database, to set up the rota as an administrator would."""
    url = f"sqlite:///{tmp_path}/browser.sqlite3"
    return make_runtime(make_settings(DATABASE_URL=url, PUBLIC_BASE_URL=site.url))


def rota(runtime: Runtime) -> None:
    """Two advisers on today's rota; the adviser and duty officer accounts linked to them."""
    now = runtime.clock()
    zone = runtime.settings.timezone
    today = now.astimezone(zone).date()
    with unit_of_work(runtime.sessions) as session:
        for name, phone, office, email in (
            ("Alex Adams", ANN, "herefordshire", "adviser@council.example"),
            ("Bryn Bowen", BEN, "worcestershire", "duty-officer@council.example"),
        ):
            person = Adviser(
                name=name, name_key=name_key(name), phone=phone, created_at=now, updated_at=now
            )
            session.add(person)
            session.flush()
            session.add(
                Shift(
                    adviser_id=person.id,
                    office=office,
                    day=today,
                    start=time(9),
                    end=time(17),
                    starts_at=local_instant(today, time(9), zone),
                    ends_at=local_instant(today, time(17), zone),
                    duty_officer=False,
                )
            )
            account = session.scalars(select(Account).where(Account.email == email)).one()
            account.adviser_id = person.id


def leave_message(site: Site, caller: str | None, to: str = HEREFORD) -> None:
    """A caller rings the helpline and leaves a message, played through the webhooks."""
    player = CallPlayer(HttpTransport(site.url, site.url), TOKEN, site.url)
    result = player.play(Script(caller=caller, to=to, message_seconds=15))
    assert result.errors == []


def callback_link(page: Any) -> Any:
    return page.get_by_role("link", name=re.compile(r"^Callback \d+$")).first


def test_a_message_is_assigned_played_called_back_and_completed(
    page: Any, site: Site, tmp_path: Path
) -> None:
    leave_message(site, PARENT)  # before the rota: nobody on shift, so the answer machine
    rota(runtime_of(site, tmp_path))

    sign_in(page, site, "duty-officer@council.example")
    assert page.url == site.at("/callbacks")
    assert_accessible(page)
    callback_link(page).click()
    page.wait_for_url(re.compile(r"/callbacks/\d+$"))
    callback_url = page.url
    assert_accessible(page)
    page.get_by_label("Assign to").select_option(label="Alex Adams")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("Assigned to Alex Adams.").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(site.at("/sign-in"))

    sign_in(page, site, "adviser@council.example")
    assert page.url == site.at("/callbacks/mine")
    assert page.get_by_text("attempt 1 of 3").is_visible()
    assert_accessible(page)
    callback_link(page).click()
    assert page.url == callback_url
    player = page.locator("audio").first
    # Nothing is fetched until the adviser plays it, so opening the page is not a listen.
    assert player.evaluate("a => a.networkState") == 0 or player.evaluate("a => a.readyState") == 0
    with page.expect_response(lambda r: "/recordings/" in r.url) as audio:
        player.click()  # the click gives the page the user activation that playing needs
        player.evaluate("a => a.play()")
    assert audio.value.status in (200, 206)
    assert audio.value.headers["content-type"] == "audio/wav"
    page.wait_for_function("document.querySelector('audio').duration > 0")
    assert_accessible(page)

    page.get_by_role("button", name="Call me now, then the parent").click()
    page.wait_for_load_state()
    assert page.get_by_text("No call was placed").is_visible()
    page.get_by_label("Spoke to the parent").check()
    page.get_by_role("button", name="Record the outcome").click()
    page.wait_for_load_state()
    assert page.get_by_text("Outcome recorded: the callback is completed.").is_visible()
    assert page.locator("#status").inner_text().strip() == "Completed"
    assert_accessible(page)


def test_the_queue_works_by_keyboard_alone(page: Any, site: Site) -> None:
    leave_message(site, PARENT)
    sign_in(page, site, "duty-officer@council.example")

    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "document.activeElement.id || document.activeElement.textContent.trim()"
        )
        reached.append(focused)
        if re.fullmatch(r"Callback \d+", focused):
            break
    assert "office" in reached and "status" in reached  # the filters on the way
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/callbacks/\d+$"))
    assert page.get_by_role("heading", level=1, name=re.compile(r"^Callback \d+$")).is_visible()


def test_an_adviser_sees_the_queue_without_numbers_and_accessible(
    page: Any, site: Site, tmp_path: Path
) -> None:
    leave_message(site, PARENT)  # before the rota: nobody on shift, so the answer machine
    rota(runtime_of(site, tmp_path))
    sign_in(page, site, "adviser@council.example")

    page.goto(site.at("/callbacks"))

    assert page.get_by_role("button", name=re.compile(r"^Take")).is_visible()
    assert PARENT not in page.content()
    assert_accessible(page)


def test_the_duty_officers_queue_screenshot(page: Any, site: Site, tmp_path: Path) -> None:
    for n, to in ((1, HEREFORD), (2, WORCS), (3, HEREFORD)):
        leave_message(site, parent(n), to)
    leave_message(site, None, WORCS)
    runtime = runtime_of(site, tmp_path)
    rota(runtime)
    with unit_of_work(runtime.sessions) as session:
        alex = session.scalars(select(Adviser).where(Adviser.name == "Alex Adams")).one()
        desk.assign(
            session,
            runtime.settings,
            3,
            alex.id,
            "Duty-Officer Person",
            runtime.clock(),
            expected_version=None,
        )
    sign_in(page, site, "duty-officer@council.example")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site.at("/callbacks"))

    assert page.locator("#queue tbody tr").count() == 4
    assert page.get_by_role("heading", name="Today's rota").is_visible()
    folder = Path(os.environ.get(SCREENSHOT_DIR) or tmp_path)
    shot = folder / "queue.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
