"""The staff pages under attack: each test is one thing an attacker (or a curious colleague)
tries, and what stops it. What other files already prove is named in each section instead of
being proved twice."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import service
from accounts.models import Account, Role, SignInAttempt
from callbacks.models import Callback
from helpline.app import create_app, make_runtime
from helpline.runtime import Runtime
from helpline.scheduler import run_job
from helpline.settings import Settings
from helpline.simulation.simulator import CallPlayer, FlaskTransport, Script
from helpline.staff import COOKIE
from tests.constants import ANN, BASE_URL, HEREFORD, MONDAY, PARENT, PASSWORD, TOKEN
from tests.factories import Clock, adviser
from tests.staff.conftest import csrf_of, sign_in
from tests.staff.test_callback_pages import (
    ANN_EMAIL,
    BEN_EMAIL,
    BEN_REC,
    DUTY_EMAIL,
    REC,
    Desk,
    make_desk,
    status_of,
)

Make = Callable[..., Account]
HOST = urlsplit(BASE_URL).netloc


@pytest.fixture
def desk_(session: Session, settings: Settings, clock: Clock) -> Desk:
    return make_desk(session, settings, clock)


def count(session: Session, model: type, *where: object) -> int:
    session.expire_all()
    query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
    return session.scalar(query) or 0


def role_of(session: Session, email: str) -> str:
    session.expire_all()
    return session.scalars(select(Account.role).where(Account.email == email)).one()


def phone_forms(e164: str) -> list[str]:
    """A UK number as it might be written: +447700900123, 447700900123, 07700900123,
    07700 900123 and 7700900123."""
    national = "0" + e164.removeprefix("+44")
    return [e164, e164[1:], national, f"{national[:5]} {national[5:]}", national[1:]]


# --- role escalation ------------------------------------------------------------------------
# Already proved elsewhere: a manager or adviser closing or reopening an office
# (test_offices_pages.py::test_advisers_and_managers_are_refused_the_page_and_its_forms);
# an adviser assigning or closing, a manager closing or taking, an admin writing notes
# (test_callback_pages.py::test_an_action_outside_the_role_is_refused_and_changes_nothing);
# the rota's forms (test_rota_pages.py::test_other_roles_are_refused_every_change_...).


def test_an_adviser_can_neither_add_an_admin_nor_make_itself_one(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    token = csrf_of(staff.get("/callbacks/mine"))
    me = session.scalars(select(Account).where(Account.email == ANN_EMAIL)).one()
    accounts_before = count(session, Account)

    answers = [
        staff.post(
            "/admin/users",
            data={
                "email": "mole@council.example",
                "name": "Mole",
                "role": "admin",
                "adviser": "",
                "password": PASSWORD,
                "csrf_token": token,
            },
        ),
        staff.post(f"/admin/users/{me.id}/role", data={"role": "admin", "csrf_token": token}),
        staff.post(
            f"/admin/users/{me.id}/role", data={"role": "duty_officer", "csrf_token": token}
        ),
        staff.post(f"/admin/users/{me.id + 1}/disable", data={"csrf_token": token}),
    ]

    assert [a.status_code for a in answers] == [403] * 4
    assert count(session, Account) == accounts_before
    assert role_of(session, ANN_EMAIL) == "adviser"
    assert count(session, Account, Account.active.is_(False)) == 0
    assert staff.get("/admin/users").status_code == 403  # and the session is still an adviser's


def test_a_manager_cannot_assign_a_callback_from_the_queue(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, "manager@council.example")
    token = csrf_of(staff.get("/stats"))
    version = session.get_one(Callback, desk_.pool).version

    answer = staff.post(
        f"/callbacks/{desk_.pool}/assign",
        data={"adviser": desk_.ann_id, "version": version, "csrf_token": token},
    )

    assert answer.status_code == 403
    assert status_of(session, desk_.pool) == "open"
    assert session.get_one(Callback, desk_.pool).assigned_to_id is None


def test_an_adviser_cannot_take_a_callback_another_adviser_holds(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    version = session.get_one(Callback, desk_.bens).version

    answer = staff.post(
        f"/callbacks/{desk_.bens}/take",
        data={"version": version, "csrf_token": csrf_of(staff.get("/callbacks"))},
        follow_redirects=True,
    )

    assert "This callback was changed meanwhile" in answer.get_data(as_text=True)
    assert "with Ben Birch" in answer.get_data(as_text=True)
    session.expire_all()
    taken = session.get_one(Callback, desk_.bens)
    assert (taken.assigned_to_id, taken.version) == (desk_.ben_id, version)
    assert staff.get(f"/callbacks/{desk_.bens}").status_code == 403  # still not Ann's to open


# --- other people's recordings --------------------------------------------------------------
# Already proved: another adviser's recording is 403 and an unknown one 404
# (test_callback_pages.py::test_an_adviser_may_not_open_or_play_another_advisers_callback).
# Here: whatever is asked, the answer carries no audio and no Twilio address.


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/recordings/{REC}", 403),  # Ann's message, asked for by Ben
        ("/recordings/RE" + "c" * 32, 404),  # no such recording
        ("/recordings/..%2F..%2Fetc%2Fpasswd", 404),
        ("/recordings/..%2F" + BEN_REC, 404),
        ("/recordings/%2E%2E", 404),
        (f"/recordings/{REC}.mp3", 404),
        (f"/recordings/{REC}%00", 400),
        ("/recordings/" + "RE" + "a" * 500, 404),
    ],
)
def test_a_recording_not_ones_own_gives_no_audio_and_no_twilio_address(
    staff: FlaskClient, desk_: Desk, path: str, expected: int
) -> None:
    sign_in(staff, BEN_EMAIL)

    answer = staff.get(path)

    assert answer.status_code == expected
    assert answer.mimetype == "text/html"
    body = answer.get_data(as_text=True)
    assert "twilio.com" not in body and "RIFF" not in body
    assert REC not in body


# --- CSRF and the session cookie --------------------------------------------------------------
# Already proved: a form without a token, or a made-up one, is refused
# (test_roles_and_forms.py::test_a_post_without_the_csrf_token_gets_400_and_changes_nothing),
# and a copy of the cookie stops working at sign-out
# (test_sign_in.py::test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie).


def test_a_csrf_token_from_another_session_is_refused(
    app: Flask, staff: FlaskClient, account: Make, session: Session
) -> None:
    account(Role.ADMIN)
    attacker = app.test_client()
    attacker.environ_base.update(staff.environ_base)
    account(Role.MANAGER)
    sign_in(attacker, "manager@council.example")
    attackers_token = csrf_of(attacker.get("/stats"))
    sign_in(staff, "admin@council.example")

    answer = staff.post(
        "/admin/users",
        data={
            "email": "mole@council.example",
            "name": "Mole",
            "role": "admin",
            "adviser": "",
            "password": PASSWORD,
            "csrf_token": attackers_token,
        },
    )

    assert answer.status_code == 400
    assert count(session, Account, Account.email == "mole@council.example") == 0


def test_a_cookie_set_before_sign_in_is_not_the_session_after_it(
    app: Flask, staff: FlaskClient, account: Make
) -> None:
    account(Role.ADMIN)
    form = staff.get("/sign-in")
    before = staff.get_cookie(COOKIE)
    assert before is not None
    token_before = csrf_of(form)

    assert sign_in(staff, "admin@council.example").status_code == 303

    after = staff.get_cookie(COOKIE)
    assert after is not None and after.value != before.value
    assert csrf_of(staff.get("/admin/users")) != token_before
    # Someone who planted the first cookie in the browser is not signed in by it.
    planter = app.test_client()
    planter.environ_base.update(staff.environ_base)
    planter.set_cookie(COOKIE, before.value, domain=before.domain, secure=True)
    assert planter.get("/admin/users").headers["Location"].startswith("/sign-in")


# --- guessing passwords -----------------------------------------------------------------------
# Already proved: one address trying many accounts is made to wait, and X-Forwarded-For is
# ignored unless a proxy is trusted (test_sign_in.py).


def from_address(address: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_one_account_guessed_from_many_addresses_waits_even_with_the_right_password(
    staff: FlaskClient, account: Make, clock: Clock
) -> None:
    account(Role.ADMIN)
    for n in range(5):
        wrong = sign_in(
            staff, "admin@council.example", "not-the-password", **from_address(f"192.0.2.{n}")
        )
        assert wrong.status_code == 401
        clock.advance(minutes=2)

    sixth = sign_in(staff, "admin@council.example", PASSWORD, **from_address("192.0.2.50"))

    assert sixth.status_code == 429
    assert staff.get("/admin/users").status_code == 303  # not signed in


def test_the_throttle_is_kept_in_the_database_so_another_web_process_sees_it(
    staff: FlaskClient, account: Make, runtime: Runtime, clock: Clock, session: Session
) -> None:
    account(Role.ADMIN)
    for _ in range(5):
        sign_in(staff, "admin@council.example", "not-the-password")
    assert count(session, SignInAttempt) == 5
    # A second instance of the app (another gunicorn worker, another dyno) on the same database.
    other = create_app(
        make_runtime(runtime.settings, sessions=runtime.sessions, clock=clock)
    ).test_client()
    other.environ_base.update(staff.environ_base)

    answer = sign_in(other, "admin@council.example", PASSWORD, **from_address("198.51.100.7"))

    assert answer.status_code == 429
    clock.advance(minutes=16)
    assert sign_in(other, "admin@council.example", PASSWORD).status_code == 303


# --- open redirects -------------------------------------------------------------------------
# Already proved for //evil.example (test_roles_and_forms.py); here the other spellings.


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/%09/evil.example/",
        "javascript:alert(1)",
        "http:evil.example",
        "/ /evil.example/",
    ],
)
def test_next_never_sends_the_browser_to_another_site(
    staff: FlaskClient, account: Make, target: str
) -> None:
    account(Role.MANAGER)
    token = csrf_of(staff.get("/sign-in"))

    answer = staff.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": "manager@council.example", "password": PASSWORD, "csrf_token": token},
    )

    assert answer.status_code == 303
    location = answer.headers["Location"]
    # A browser drops tabs and newlines from a URL before it follows it.
    followed = urljoin(BASE_URL + "/sign-in", re.sub(r"[\t\n\r]", "", location))
    assert urlsplit(followed).netloc == HOST
    assert urlsplit(followed).scheme == "https"


# --- personal data never in URLs, error pages or logs -----------------------------------------


def test_no_caller_number_is_in_any_address_on_the_queue(staff: FlaskClient, desk_: Desk) -> None:
    sign_in(staff, DUTY_EMAIL)

    page = staff.get("/callbacks?status=&office=&no_number=").get_data(as_text=True)

    assert PARENT in page  # the duty officer does see the number on the page...
    addresses = re.findall(r'(?:href|action|src)="([^"]*)"', page)
    assert addresses
    for number in phone_forms(PARENT):
        assert not [a for a in addresses if number in a]  # ...but never in an address
    # The filter form sends only choices: there is no box to type a number into.
    form = page[page.index('id="filters"') : page.index("</form>", page.index('id="filters"'))]
    assert '<form method="get" action="/callbacks"' in page
    assert 'type="text"' not in form and 'type="search"' not in form and "<textarea" not in form


def test_a_failure_in_a_staff_view_shows_and_logs_no_personal_data(
    app: Flask, staff: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/callbacks/failing")
    def failing() -> str:
        # A database error's message can carry the row it refused, number and all.
        raise RuntimeError(f'duplicate key (phone)=({PARENT}) note "moving house"')

    with caplog.at_level(logging.DEBUG):
        answer = staff.get("/callbacks/failing")

    assert answer.status_code == 500
    body = answer.get_data(as_text=True)
    assert "moving house" not in body and not [n for n in phone_forms(PARENT) if n in body]
    assert "RuntimeError" in caplog.text  # the failure is logged...
    assert "moving house" not in caplog.text  # ...without what it carried
    assert not [n for n in phone_forms(PARENT) if n in caplog.text]


def test_a_whole_callback_flow_logs_no_caller_number(
    app: Flask,
    staff: FlaskClient,
    session: Session,
    runtime: Runtime,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    service.add(
        session,
        email=ANN_EMAIL,
        name="Ann Ash",
        role=Role.ADVISER,
        password=PASSWORD,
        adviser=ann,
        now=clock(),
    )
    session.commit()
    caller = "+447700900987"

    with caplog.at_level(logging.DEBUG):
        script = Script(caller=caller, to=HEREFORD, advisers={ANN: "no-answer"})
        assert CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(script).errors == []
        run_job(runtime, "assign-callbacks")
        sign_in(staff, ANN_EMAIL)
        mine = staff.get("/callbacks/mine").get_data(as_text=True)
        callback_id = int(re.findall(r'href="/callbacks/(\d+)"', mine)[0])
        page = staff.get(f"/callbacks/{callback_id}")
        sid = re.findall(r'src="/recordings/(RE\w+)"', page.get_data(as_text=True))[0]
        assert staff.get(f"/recordings/{sid}").status_code in (200, 206)
        version = session.get_one(Callback, callback_id).version
        called = staff.post(
            f"/callbacks/{callback_id}/call",
            data={"version": version, "csrf_token": csrf_of(page)},
            follow_redirects=True,
        )
        session.expire_all()
        version = session.get_one(Callback, callback_id).version
        staff.post(
            f"/callbacks/{callback_id}/outcome",
            data={
                "outcome": "no-answer",
                "outcome_note": "",
                "version": version,
                "csrf_token": csrf_of(called),
            },
        )
        for job in ("release-retries", "warn-deadlines", "assign-callbacks", "return-to-pool"):
            run_job(runtime, job)

    assert session.get_one(Callback, callback_id).phone == caller
    assert caplog.records, "the flow logged nothing, so the test proves nothing"
    assert not [n for n in phone_forms(caller) if n in caplog.text]


# --- a NUL byte, which PostgreSQL refuses in any text ------------------------------------------


@pytest.mark.parametrize(
    ("email", "method", "path", "form"),
    [
        (None, "post", "/sign-in", {"email": "admin\x00@council.example", "password": "x"}),
        (DUTY_EMAIL, "get", "/callbacks?office=%00&status=%00", {}),
        (DUTY_EMAIL, "get", f"/recordings/{REC}%00", {}),
        (DUTY_EMAIL, "post", "/offices/hereford%00shire/close", {"reason": "x"}),
        (DUTY_EMAIL, "post", "/callbacks/{pool}/notes", {"note": "a\x00b"}),
        (DUTY_EMAIL, "post", "/callbacks/{pool}/close", {"reason": "a\x00b"}),
        ("admin@council.example", "post", "/admin/users", {"name": "A\x00B", "email": "a@b.c"}),
    ],
)
def test_a_nul_byte_in_what_a_page_reads_is_refused_not_a_failure(
    staff: FlaskClient,
    session: Session,
    desk_: Desk,
    email: str | None,
    method: str,
    path: str,
    form: dict[str, str],
) -> None:
    if email is not None:
        sign_in(staff, email)
    token = csrf_of(staff.get("/sign-in" if email is None else "/rota"))
    version = session.get_one(Callback, desk_.pool).version
    data = form | {"csrf_token": token, "version": str(version), "role": "manager"}
    data |= {"adviser": "", "password": PASSWORD}

    answer = getattr(staff, method)(path.format(pool=desk_.pool), data=data)

    assert answer.status_code == 400
    assert "The form could not be used" in answer.get_data(as_text=True)
