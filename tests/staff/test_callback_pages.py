"""The callback pages through the test client: who may use them, what advisers see, the
filters, conflicts, taking, calling back, outcomes, and playing messages by byte ranges."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import service
from accounts.models import AuditEntry, Role
from callbacks import desk, filing
from callbacks.messages import record_message
from callbacks.models import Callback
from calls import service as calls
from helpline.app import create_app
from helpline.dialer import tone_wav
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.simulation.simulator import CallPlayer, FlaskTransport, Script
from rota.models import Adviser
from tests.constants import (
    ACCOUNT,
    ANN,
    BASE_URL,
    BEN,
    DAN,
    HEREFORD,
    MONDAY,
    PARENT,
    PASSWORD,
    TOKEN,
    parent,
)
from tests.factories import Clock, adviser
from tests.staff.conftest import csrf_of, sign_in
from webhooks.twilio_dialer import TwilioDialer

REC = "RE" + "a" * 32
BEN_REC = "RE" + "b" * 32
ANN_EMAIL, BEN_EMAIL, DUTY_EMAIL = "ann@council.example", "ben@council.example", "duty@c.example"


@dataclass
class Desk:
    ann_id: int
    ben_id: int
    mine: int  # Ann's callback, from a message (REC)
    bens: int  # Ben's callback, from a message (BEN_REC)
    pool: int  # open and unassigned, Worcestershire, with a number
    anonymous: int  # open and unassigned, no number


def _account(session: Session, clock: Clock, email: str, role: Role, who: Adviser | None) -> None:
    name = who.name if who else f"{role.value.title()} Person"
    service.add(
        session, email=email, name=name, role=role, password=PASSWORD, adviser=who, now=clock()
    )


def _message(session: Session, settings: Settings, clock: Clock, rec: str, phone: str) -> int:
    call_sid = "CA" + rec[2:]
    calls.record_incoming(session, settings, call_sid, phone, HEREFORD, clock())
    message = record_message(
        session, settings, recording_sid=rec, call_sid=call_sid, duration_s=12, now=clock()
    )
    assert message is not None and message.callback_id is not None
    return message.callback_id


@pytest.fixture
def desk_(session: Session, settings: Settings, clock: Clock) -> Desk:
    return make_desk(session, settings, clock)


def make_desk(session: Session, settings: Settings, clock: Clock) -> Desk:
    """Three advisers and a duty officer with accounts, a manager's and an admin's, and four
    callbacks: Ann's, Ben's, one in the pool and one with no number (committed)."""
    ann = adviser(session, "Ann Ash", ANN, "herefordshire", MONDAY)
    ben = adviser(session, "Ben Birch", BEN, "herefordshire", MONDAY)
    dana = adviser(session, "Dana Duty", DAN, "worcestershire", MONDAY)
    _account(session, clock, ANN_EMAIL, Role.ADVISER, ann)
    _account(session, clock, BEN_EMAIL, Role.ADVISER, ben)
    _account(session, clock, DUTY_EMAIL, Role.DUTY_OFFICER, dana)
    _account(session, clock, "unlinked@council.example", Role.ADVISER, None)
    for role in (Role.MANAGER, Role.ADMIN):
        _account(session, clock, f"{role.value}@council.example", role, None)
    mine = _message(session, settings, clock, REC, PARENT)
    bens = _message(session, settings, clock, BEN_REC, parent(2))
    pool, _ = filing.callback_for(session, settings, parent(3), "worcestershire", clock())
    anonymous, _ = filing.callback_for(session, settings, None, "herefordshire", clock())
    for callback_id, who in ((mine, ann), (bens, ben)):
        desk.assign(
            session, settings, callback_id, who.id, "Dana Duty", clock(), expected_version=None
        )
    session.commit()
    return Desk(ann.id, ben.id, mine, bens, pool.id, anonymous.id)


def audits(session: Session, action: str) -> int:
    session.expire_all()
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    return session.scalar(query) or 0


def status_of(session: Session, callback_id: int) -> str:
    session.expire_all()
    return session.get_one(Callback, callback_id).status


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (ANN_EMAIL, 200),
        (DUTY_EMAIL, 200),
        ("manager@council.example", 403),
        ("admin@council.example", 403),
        (None, 303),
    ],
)
@pytest.mark.parametrize(
    "path", ["/callbacks/mine", "/callbacks", "/callbacks/{mine}", f"/recordings/{REC}"]
)
def test_each_page_lets_in_only_advisers_and_the_duty_officer(
    staff: FlaskClient, desk_: Desk, email: str | None, expected: int, path: str
) -> None:
    if email:
        sign_in(staff, email)

    answer = staff.get(path.format(mine=desk_.mine))

    assert answer.status_code == expected
    if expected == 303:
        assert answer.headers["Location"].startswith("/sign-in?next=")


def test_an_adviser_sees_the_queue_without_numbers_and_may_take_only_unassigned_ones(
    staff: FlaskClient, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)

    page = staff.get("/callbacks").get_data(as_text=True)

    assert "<caption" in page
    for number in (PARENT, parent(2), parent(3)):
        assert number not in page
    assert f'action="/callbacks/{desk_.pool}/take"' in page
    assert f'action="/callbacks/{desk_.mine}/take"' not in page
    assert f'href="/callbacks/{desk_.mine}"' in page  # hers: a link
    assert f'href="/callbacks/{desk_.bens}"' not in page  # Ben's: none


def test_the_duty_officer_sees_numbers_and_todays_rota(staff: FlaskClient, desk_: Desk) -> None:
    sign_in(staff, DUTY_EMAIL)

    page = staff.get("/callbacks").get_data(as_text=True)

    assert PARENT in page and parent(3) in page
    assert "Today&#39;s rota" in page or "Today's rota" in page
    assert "Ann Ash" in page and "On shift, free" in page


def test_the_filters_narrow_the_queue(staff: FlaskClient, desk_: Desk) -> None:
    sign_in(staff, DUTY_EMAIL)

    def shown(query: str) -> set[int]:
        page = staff.get(f"/callbacks?{query}").get_data(as_text=True)
        ids = {desk_.mine, desk_.bens, desk_.pool, desk_.anonymous}
        return {i for i in ids if f'href="/callbacks/{i}"' in page}

    assert shown("") == {desk_.mine, desk_.bens, desk_.pool, desk_.anonymous}
    assert shown("office=worcestershire") == {desk_.pool}
    assert shown("unassigned=yes") == {desk_.pool, desk_.anonymous}
    assert shown("no_number=yes") == {desk_.anonymous}
    assert shown("status=assigned&office=herefordshire") == {desk_.mine, desk_.bens}
    assert shown("overdue=yes") == set()
    assert staff.get("/callbacks?status=lost").status_code == 400


def test_an_unlinked_account_is_told_so(staff: FlaskClient, desk_: Desk) -> None:
    sign_in(staff, "unlinked@council.example")

    page = staff.get("/callbacks/mine").get_data(as_text=True)

    assert "not linked to an adviser" in page


def test_my_callbacks_lists_mine_and_sets_me_away_and_back(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    page = staff.get("/callbacks/mine")
    text = page.get_data(as_text=True)
    assert f'href="/callbacks/{desk_.mine}"' in text
    assert f'href="/callbacks/{desk_.bens}"' not in text
    assert "attempt 1 of 3" in text and "of working time left" in text

    staff.post("/callbacks/mine/away", data={"away": "yes", "csrf_token": csrf_of(page)})

    assert session.get_one(Adviser, desk_.ann_id).away is True
    again = staff.get("/callbacks/mine").get_data(as_text=True)
    assert "I am available" in again and "Away" in again
    assert audits(session, "set-away") == 1


def test_an_adviser_takes_an_open_callback_and_a_late_second_is_told(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    queue = staff.get("/callbacks")
    token = csrf_of(queue)
    version = session.get_one(Callback, desk_.pool).version

    taken = staff.post(
        f"/callbacks/{desk_.pool}/take", data={"version": version, "csrf_token": token}
    )
    again = staff.post(
        f"/callbacks/{desk_.pool}/take",
        data={"version": version, "csrf_token": token},
        follow_redirects=True,
    )

    assert taken.headers["Location"] == f"/callbacks/{desk_.pool}"
    assert "changed meanwhile" in again.get_data(as_text=True)
    assert audits(session, "take") == 1


def test_an_adviser_may_not_open_or_play_another_advisers_callback(
    staff: FlaskClient, desk_: Desk
) -> None:
    sign_in(staff, BEN_EMAIL)

    assert staff.get(f"/callbacks/{desk_.mine}").status_code == 403
    assert staff.get(f"/recordings/{REC}").status_code == 403
    assert staff.get(f"/recordings/{BEN_REC}").status_code == 200
    assert staff.get("/recordings/RE" + "c" * 32).status_code == 404


def test_a_callback_page_plays_its_messages_through_the_service(
    staff: FlaskClient, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)

    page = staff.get(f"/callbacks/{desk_.mine}").get_data(as_text=True)

    assert f'<audio controls preload="none" src="/recordings/{REC}"' in page
    assert "twilio.com" not in page


def test_the_recording_answers_byte_ranges_and_audits_each_listen_once(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    total = len(tone_wav())

    whole = staff.get(f"/recordings/{REC}")
    first = staff.get(f"/recordings/{REC}", headers={"Range": "bytes=0-"})
    part = staff.get(f"/recordings/{REC}", headers={"Range": "bytes=100-199"})
    past = staff.get(f"/recordings/{REC}", headers={"Range": f"bytes={total + 10}-"})
    last = staff.get(f"/recordings/{REC}", headers={"Range": f"bytes=-{total * 2}"})

    assert whole.status_code == 200 and whole.data == tone_wav()
    assert whole.headers["Content-Type"] == "audio/wav"
    assert whole.headers["Cache-Control"] == "no-store"
    assert (
        first.status_code == 206
        and first.headers["Content-Range"] == f"bytes 0-{total - 1}/{total}"
    )
    assert part.status_code == 206 and part.data == tone_wav()[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{total}"
    assert part.headers["Accept-Ranges"] == "bytes"
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{total}"
    assert last.status_code == 206 and last.data == tone_wav()  # "the last bytes": all of it
    assert audits(session, "listen") == 3  # the whole, the one from byte 0, the last bytes


def test_a_request_for_several_ranges_gets_the_whole_recording_as_one_listen(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)

    answer = staff.get(f"/recordings/{REC}", headers={"Range": "bytes=0-1,5-9"})

    assert answer.status_code == 200 and answer.data == tone_wav()
    assert "Content-Range" not in answer.headers
    assert audits(session, "listen") == 1


@pytest.fixture
def at_twilio(
    runtime: Runtime, twilio: responses.RequestsMock, twilio_dialer: TwilioDialer
) -> FlaskClient:
    """The staff pages of a service whose recordings are at Twilio (Ann's recording there)."""
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC}.mp3"
    twilio.get(url, body=b"ID3 a message", content_type="audio/mpeg")
    client = create_app(dataclasses.replace(runtime, dialer=twilio_dialer)).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_HOST"] = BASE_URL.removeprefix("https://")
    return client


def test_a_head_request_fetches_no_audio_and_is_not_a_listen(
    at_twilio: FlaskClient, twilio: responses.RequestsMock, session: Session, desk_: Desk
) -> None:
    sign_in(at_twilio, ANN_EMAIL)

    head = at_twilio.head(f"/recordings/{REC}")
    others = at_twilio.head(f"/recordings/{BEN_REC}")

    assert head.status_code == 200 and head.data == b""
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["Cache-Control"] == "no-store"
    assert others.status_code == 403
    assert len(twilio.calls) == 0 and audits(session, "listen") == 0

    played = at_twilio.get(f"/recordings/{REC}")

    assert played.status_code == 200 and played.data == b"ID3 a message"
    assert len(twilio.calls) == 1 and audits(session, "listen") == 1


def test_a_close_on_an_old_version_says_what_changed_and_keeps_the_reason(
    staff: FlaskClient, session: Session, settings: Settings, clock: Clock, desk_: Desk
) -> None:
    sign_in(staff, DUTY_EMAIL)
    page = staff.get(f"/callbacks/{desk_.pool}")
    seen = session.get_one(Callback, desk_.pool).version
    desk.assign(
        session, settings, desk_.pool, desk_.ben_id, "Ben Birch", clock(), expected_version=None
    )
    session.commit()

    answer = staff.post(
        f"/callbacks/{desk_.pool}/close",
        data={"reason": "Rang the office again", "version": seen, "csrf_token": csrf_of(page)},
    )

    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "changed meanwhile" in text and "assigned, with Ben Birch" in text
    assert ">Rang the office again</textarea>" in text
    assert status_of(session, desk_.pool) == "assigned"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, DUTY_EMAIL)
    version = session.get_one(Callback, desk_.pool).version

    answer = staff.post(
        f"/callbacks/{desk_.pool}/close", data={"reason": "duplicate", "version": version}
    )

    assert answer.status_code == 400
    assert status_of(session, desk_.pool) == "open"


def test_the_duty_officer_assigns_off_shift_with_a_warning(
    staff: FlaskClient, session: Session, clock: Clock, desk_: Desk
) -> None:
    clock.advance(hours=10)  # 20:00: nobody on shift
    sign_in(staff, DUTY_EMAIL)
    page = staff.get(f"/callbacks/{desk_.pool}")
    version = session.get_one(Callback, desk_.pool).version

    done = staff.post(
        f"/callbacks/{desk_.pool}/assign",
        data={"adviser": desk_.ann_id, "version": version, "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )

    text = done.get_data(as_text=True)
    assert "Assigned to Ann Ash" in text and "govuk-warning-text" in text
    assert audits(session, "assign") == 1


def test_an_adviser_calls_back_without_twilio_then_records_the_outcome(
    staff: FlaskClient, session: Session, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    page = staff.get(f"/callbacks/{desk_.mine}")
    assert "Record the outcome" not in page.get_data(as_text=True)
    version = session.get_one(Callback, desk_.mine).version

    called = staff.post(
        f"/callbacks/{desk_.mine}/call",
        data={"version": version, "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )

    text = called.get_data(as_text=True)
    assert "No call was placed" in text and "Record the outcome" in text
    version = session.get_one(Callback, desk_.mine).version
    done = staff.post(
        f"/callbacks/{desk_.mine}/outcome",
        data={
            "outcome": "spoke",
            "outcome_note": "All sorted.",
            "version": version,
            "csrf_token": csrf_of(called),
        },
        follow_redirects=True,
    )
    assert "the callback is completed" in done.get_data(as_text=True)
    assert status_of(session, desk_.mine) == "completed"
    assert audits(session, "call-back") == 1 and audits(session, "outcome") == 1


def test_an_outcome_on_an_old_version_keeps_the_note(
    staff: FlaskClient, session: Session, settings: Settings, clock: Clock, desk_: Desk
) -> None:
    sign_in(staff, ANN_EMAIL)
    page = staff.get(f"/callbacks/{desk_.mine}")
    staff.post(f"/callbacks/{desk_.mine}/call", data={"version": 0, "csrf_token": csrf_of(page)})
    seen = session.get_one(Callback, desk_.mine).version
    desk.add_note(session, desk_.mine, "Dana Duty", "Parent rang in", clock())
    desk.assign(
        session, settings, desk_.mine, desk_.ann_id, "Dana Duty", clock(), expected_version=None
    )
    session.commit()

    answer = staff.post(
        f"/callbacks/{desk_.mine}/outcome",
        data={
            "outcome": "spoke",
            "outcome_note": "Talked it through",
            "version": seen,
            "csrf_token": csrf_of(page),
        },
    )

    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "changed meanwhile" in text
    assert ">Talked it through</textarea>" in text
    assert status_of(session, desk_.mine) == "assigned"


def test_the_duty_officer_sees_who_is_on_a_call_now(
    app: Flask, staff: FlaskClient, desk_: Desk
) -> None:
    script = Script(caller=parent(9), to=HEREFORD, advisers={ANN: "accept"}, leave_open=True)
    result = CallPlayer(FlaskTransport(app), TOKEN, BASE_URL).play(script)
    assert result.errors == []
    sign_in(staff, DUTY_EMAIL)

    page = staff.get("/callbacks").get_data(as_text=True)

    rota = page[page.index("rota-today") :]
    assert re.search(r"Ann Ash</td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>\s*On shift, on a call", rota)
    assert re.search(r"Ben Birch</td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>\s*On shift, free", rota)


@pytest.mark.parametrize(
    ("email", "action"),
    [
        (ANN_EMAIL, "assign"),
        (ANN_EMAIL, "close"),
        ("manager@council.example", "close"),
        ("admin@council.example", "notes"),
        ("manager@council.example", "take"),
    ],
)
def test_an_action_outside_the_role_is_refused_and_changes_nothing(
    staff: FlaskClient, session: Session, desk_: Desk, email: str, action: str
) -> None:
    sign_in(staff, email)
    token = csrf_of(staff.get("/callbacks"))  # a 403 page still has the sign-out form
    version = session.get_one(Callback, desk_.pool).version

    answer = staff.post(
        f"/callbacks/{desk_.pool}/{action}",
        data={
            "adviser": desk_.ann_id,
            "reason": "x",
            "note": "x",
            "version": version,
            "csrf_token": token,
        },
    )

    assert answer.status_code == 403
    assert status_of(session, desk_.pool) == "open"
    assert session.get_one(Callback, desk_.pool).version == version


def test_a_callback_with_no_number_offers_no_call_and_says_why(
    staff: FlaskClient, desk_: Desk
) -> None:
    sign_in(staff, DUTY_EMAIL)

    text = staff.get(f"/callbacks/{desk_.anonymous}").get_data(as_text=True)

    assert "Call me now, then the parent" not in text
    assert "The caller left no number, so they cannot be called back." in text
    assert "Close the callback</button>" in text
    # A callback with a number still offers the call.
    numbered = staff.get(f"/callbacks/{desk_.pool}").get_data(as_text=True)
    assert "Call me now, then the parent" in numbered
    assert "left no number" not in numbered
