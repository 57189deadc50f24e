"""The offices page: only duty officers and admins; closing and reopening, audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, AuditEntry, Role
from callbacks.models import Callback
from helpline.settings import Settings
from rota.models import Closure
from rota.service import close_office
from tests.constants import PARENT, TUESDAY, WEDNESDAY, london
from tests.db.jobs.helpers import new_callback
from tests.factories import Clock
from tests.staff.conftest import csrf_of, sign_in

Make = Callable[..., Account]


def signed_in_as(staff: FlaskClient, account: Make, role: Role) -> FlaskClient:
    account(role)
    assert sign_in(staff, f"{role.value}@council.example").status_code == 303
    return staff


def closures(session: Session) -> list[tuple[str, object, object, str]]:
    session.expire_all()
    rows = session.scalars(select(Closure).order_by(Closure.id))
    return [(c.office, c.starts_at, c.ends_at, c.reason) for c in rows]


def audit_of(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture(params=[Role.DUTY_OFFICER, Role.ADMIN])
def officer(request: pytest.FixtureRequest, staff: FlaskClient, account: Make) -> FlaskClient:
    return signed_in_as(staff, account, request.param)


@pytest.mark.parametrize("role", [Role.ADVISER, Role.MANAGER])
def test_advisers_and_managers_are_refused_the_page_and_its_forms(
    staff: FlaskClient,
    account: Make,
    session: Session,
    settings: Settings,
    clock: Clock,
    role: Role,
) -> None:
    close_office(session, settings, "worcestershire", clock())
    session.commit()
    signed_in_as(staff, account, role)
    token = csrf_of(staff.get("/rota"))
    before = closures(session)

    answers = [
        staff.get("/offices"),
        staff.post("/offices/herefordshire/close", data={"csrf_token": token, "reason": "x"}),
        staff.post("/offices/worcestershire/reopen", data={"csrf_token": token}),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert "You cannot see this page" in answers[0].get_data(as_text=True)
    assert closures(session) == before


def test_duty_officers_and_admins_see_each_office_its_hours_and_whether_it_is_open(
    officer: FlaskClient,
) -> None:
    page = officer.get("/offices")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Herefordshire" in text and "Worcestershire" in text
    assert "Friday" in text and "09:00 to 16:30" in text
    assert text.count("Open now") == 2  # Monday 10:00
    assert "No closures in force or to come." in text


def test_closing_now_until_further_notice_is_shown_and_audited(
    officer: FlaskClient, session: Session, clock: Clock
) -> None:
    token = csrf_of(officer.get("/offices"))

    answer = officer.post(
        "/offices/herefordshire/close", data={"csrf_token": token, "reason": "Staff training"}
    )

    assert answer.status_code == 303
    assert closures(session) == [("herefordshire", clock(), None, "Staff training")]
    text = officer.get("/offices").get_data(as_text=True)
    assert "Herefordshire is closed until further notice." in text
    assert "Closed now" in text and "Further notice" in text and "No opening in sight" in text
    [entry] = audit_of(session, "office-closed")
    assert (entry.subject_id, entry.detail["ends_at"]) == ("herefordshire", None)


def test_closing_from_a_later_time_until_an_end_keeps_the_office_open_till_then(
    officer: FlaskClient, session: Session
) -> None:
    token = csrf_of(officer.get("/offices"))

    officer.post(
        "/offices/worcestershire/close",
        data={
            "csrf_token": token,
            "from_date": "2026-12-01",
            "from_time": "13:00",
            "until_date": "2026-12-02",
            "until_time": "09:30",
            "reason": "Team day",
        },
    )

    assert closures(session) == [
        ("worcestershire", london(TUESDAY, 13), london(WEDNESDAY, 9, 30), "Team day")
    ]
    text = officer.get("/offices").get_data(as_text=True)
    assert text.count("Open now") == 2 and "To come" in text
    assert "1 December 2026 13:00" in text and "2 December 2026 09:30" in text
    [entry] = audit_of(session, "office-closed")
    assert entry.detail == {
        "starts_at": london(TUESDAY, 13).isoformat(),
        "ends_at": london(WEDNESDAY, 9, 30).isoformat(),
    }


@pytest.mark.parametrize(
    ("form", "field", "said"),
    [
        ({"until_date": "2026-11-30", "until_time": "09:00"}, "until-date", "end in the future"),
        ({"until_date": "30/11/2026"}, "until-date", "Enter the date"),
        ({"from_date": "2026-12-01", "from_time": "25:00"}, "from-time", "Enter the time"),
        ({"reason": "x" * 201}, "reason", "200 characters"),
    ],
)
def test_a_closure_that_cannot_be_made_is_refused_with_the_field_named(
    officer: FlaskClient, session: Session, form: dict[str, str], field: str, said: str
) -> None:
    token = csrf_of(officer.get("/offices"))

    answer = officer.post("/offices/herefordshire/close", data={"csrf_token": token} | form)

    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f'href="#herefordshire-{field}"' in text and said in text
    assert closures(session) == []
    assert audit_of(session, "office-closed") == []


def test_reopening_ends_the_closure_starts_waiting_clocks_and_is_audited(
    officer: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> None:
    close_office(session, settings, "herefordshire", clock())
    waiting = new_callback(session, settings, PARENT, "herefordshire", clock())
    assert waiting.due_at is None
    session.commit()
    token = csrf_of(officer.get("/offices"))
    clock.advance(minutes=30)

    answer = officer.post("/offices/herefordshire/reopen", data={"csrf_token": token})

    assert answer.status_code == 303
    [(_, _, ended, _)] = closures(session)
    assert ended == london(clock().date(), 10, 30)
    # Reopened Monday 10:30: two working days on is Wednesday 10:30.
    assert session.get(Callback, waiting.id).due_at == london(WEDNESDAY, 10, 30)  # type: ignore[union-attr]
    text = officer.get("/offices").get_data(as_text=True)
    assert "Herefordshire is reopened (1 closure(s) ended). 1 waiting callback(s)" in text
    assert text.count("Open now") == 2
    [entry] = audit_of(session, "office-reopened")
    assert entry.detail == {"closures_ended": 1, "clocks_started": 1}


def test_closing_or_reopening_without_the_csrf_token_changes_nothing(
    officer: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> None:
    close_office(session, settings, "worcestershire", clock())
    session.commit()
    before = closures(session)

    answers = [
        officer.post("/offices/herefordshire/close", data={"reason": "x"}),
        officer.post("/offices/worcestershire/reopen", data={"csrf_token": "forged"}),
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert closures(session) == before


def test_an_office_nobody_configured_is_not_found(officer: FlaskClient) -> None:
    token = csrf_of(officer.get("/offices"))

    answer = officer.post("/offices/shropshire/close", data={"csrf_token": token})

    assert answer.status_code == 404
