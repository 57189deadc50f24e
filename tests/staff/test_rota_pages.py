"""The rota page: who may see it, who may change it, and each change an admin makes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, AuditEntry, Role
from rota.models import Adviser, Shift
from tests.constants import ANN, BEN, MONDAY, TUESDAY, WEDNESDAY, london
from tests.factories import adviser, shift
from tests.staff.conftest import csrf_of, sign_in

Make = Callable[..., Account]

BAD_FILE = (
    "name,phone,office,date,start,end,duty_officer\n"
    "Alex Adams,+447700900001,herefordshire,2026-12-01,09:00,17:00,no\n"
    "Bryn Bowen,not-a-phone,worcestershire,2026-12-01,09:00,17:00,no\n"
)
GOOD_FILE = (
    "name,phone,office,date,start,end,duty_officer\n"
    "Alex Adams,+447700900001,herefordshire,2026-12-01,09:00,17:00,yes\n"
    "Bryn Bowen,+447700900002,worcestershire,2026-12-01,09:00,13:00,no\n"
)


def signed_in_as(staff: FlaskClient, account: Make, role: Role) -> FlaskClient:
    account(role)
    assert sign_in(staff, f"{role.value}@council.example").status_code == 303
    return staff


@pytest.fixture
def admin(staff: FlaskClient, account: Make) -> FlaskClient:
    return signed_in_as(staff, account, Role.ADMIN)


def shifts_of(session: Session) -> list[tuple[str, str, str, time, time]]:
    session.expire_all()
    rows = session.execute(
        select(Adviser.name, Shift.office, Shift.day, Shift.start, Shift.end)
        .join(Adviser, Shift.adviser_id == Adviser.id)
        .order_by(Shift.day, Shift.start, Adviser.name)
    ).all()
    return [(name, office, day.isoformat(), start, end) for name, office, day, start, end in rows]


def audit_of(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def day_of(page: str, name: str) -> str:
    """One day's part of the rota page."""
    found = re.search(f'<section class="rota-day" aria-label="{name}">(.*?)</section>', page, re.S)
    assert found, f"no {name} on the page"
    return found.group(1)


def upload(client: FlaskClient, text: str, token: str) -> object:
    from io import BytesIO

    return client.post(
        "/rota/upload",
        data={"csrf_token": token, "rota_file": (BytesIO(text.encode()), "rota.csv")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_rota_and_only_admins_the_forms_that_change_it(
    staff: FlaskClient, account: Make, session: Session, role: Role
) -> None:
    adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)
    session.commit()
    signed_in_as(staff, account, role)

    page = staff.get("/rota")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Alex Adams" in text and "09:00\N{EN DASH}17:00" in text and "Herefordshire" in text
    assert ("Upload rota" in text) == (role == Role.ADMIN)
    assert ("/rota/shifts/" in text) == (role == Role.ADMIN)


def test_nobody_signed_in_is_sent_to_sign_in(staff: FlaskClient) -> None:
    assert staff.get("/rota").headers["Location"] == "/sign-in?next=%2Frota"


def test_the_rota_shows_the_hours_an_office_is_open_with_nobody_on_shift(
    staff: FlaskClient, account: Make, session: Session
) -> None:
    adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY, time(9), time(15))
    session.commit()
    signed_in_as(staff, account, Role.ADVISER)

    text = staff.get("/rota").get_data(as_text=True)

    monday = day_of(text, "Monday 30 November 2026")
    tuesday = day_of(text, "Tuesday 1 December 2026")
    # The clock says 10:00 on Monday: gaps from now on.
    assert "Herefordshire, 15:00\N{EN DASH}17:00" in monday
    assert "Worcestershire, 10:00\N{EN DASH}17:00" in monday
    assert "Herefordshire, 09:00\N{EN DASH}17:00" in tuesday
    assert "Worcestershire" not in day_of(text, "Saturday 5 December 2026")


@pytest.mark.parametrize("role", [Role.ADVISER, Role.DUTY_OFFICER, Role.MANAGER])
def test_other_roles_are_refused_every_change_and_nothing_changes(
    staff: FlaskClient, account: Make, session: Session, role: Role
) -> None:
    person = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)
    [stored] = person.shifts
    session.commit()
    signed_in_as(staff, account, role)
    token = csrf_of(staff.get("/rota"))
    before = shifts_of(session)

    answers = [
        upload(staff, GOOD_FILE, token),
        staff.get(f"/rota/shifts/{stored.id}"),
        staff.post(
            f"/rota/shifts/{stored.id}/move",
            data={
                "csrf_token": token,
                "day": "2026-12-02",
                "start": "10:00",
                "end": "12:00",
                "office": "worcestershire",
            },
        ),
        staff.post(f"/rota/shifts/{stored.id}/remove", data={"csrf_token": token}),
        staff.post(
            "/rota/clear-day", data={"csrf_token": token, "adviser": person.id, "day": "2026-12-01"}
        ),
    ]

    assert [a.status_code for a in answers] == [403] * 5  # type: ignore[attr-defined]
    assert shifts_of(session) == before
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.like("%rota%") | AuditEntry.action.like("shift%"))
        )
        == 0
    )


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
    admin: FlaskClient, session: Session
) -> None:
    person = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)
    [stored] = person.shifts
    session.commit()
    before = shifts_of(session)

    answers = [
        upload(admin, GOOD_FILE, "forged"),
        admin.post(f"/rota/shifts/{stored.id}/remove"),
        admin.post("/rota/clear-day", data={"adviser": person.id, "day": "2026-12-01"}),
    ]

    assert [a.status_code for a in answers] == [400] * 3  # type: ignore[attr-defined]
    assert shifts_of(session) == before


def test_a_file_with_a_bad_row_imports_nothing_and_names_the_line_and_field(
    admin: FlaskClient, session: Session
) -> None:
    token = csrf_of(admin.get("/rota"))

    answer = upload(admin, BAD_FILE, token)

    text = answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "govuk-error-summary" in text and "Nothing was imported" in text
    assert "line 3, phone: &#39;not-a-phone&#39; is not a UK telephone number" in text
    assert shifts_of(session) == []
    assert session.scalar(select(func.count()).select_from(Adviser)) == 0
    assert audit_of(session, "rota-imported") == []


def test_a_good_file_is_imported_said_so_and_audited_by_counts(
    admin: FlaskClient, session: Session
) -> None:
    token = csrf_of(admin.get("/rota"))

    answer = upload(admin, GOOD_FILE, token)

    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = admin.get("/rota").get_data(as_text=True)
    assert "Added 2 advisers and updated 0; added 2 shifts" in page
    assert "Bryn Bowen" in page
    assert shifts_of(session) == [
        ("Alex Adams", "herefordshire", "2026-12-01", time(9), time(17)),
        ("Bryn Bowen", "worcestershire", "2026-12-01", time(9), time(13)),
    ]
    [entry] = audit_of(session, "rota-imported")
    assert entry.actor_email == "admin@council.example"
    assert entry.detail["shifts_added"] == 2 and entry.detail["advisers_added"] == 2
    assert "Alex" not in str(entry.detail) and "+44" not in str(entry.detail)

    # The same file again replaces the day's shifts and changes nothing.
    upload(admin, GOOD_FILE.replace("09:00,13:00", "13:00,17:00"), token)
    assert shifts_of(session)[1][3:] == (time(13), time(17))
    assert "removed 1" in admin.get("/rota").get_data(as_text=True)


def test_an_admin_moves_a_shift_and_the_move_is_audited(
    admin: FlaskClient, session: Session
) -> None:
    person = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY)
    [stored] = person.shifts
    session.commit()
    token = csrf_of(admin.get(f"/rota/shifts/{stored.id}"))

    answer = admin.post(
        f"/rota/shifts/{stored.id}/move",
        data={
            "csrf_token": token,
            "day": "2026-12-02",
            "start": "10:00",
            "end": "14:00",
            "office": "worcestershire",
        },
    )

    assert answer.status_code == 303
    assert shifts_of(session) == [
        ("Alex Adams", "worcestershire", "2026-12-02", time(10), time(14))
    ]
    session.refresh(stored)
    assert (stored.starts_at, stored.ends_at) == (london(WEDNESDAY, 10), london(WEDNESDAY, 14))
    [entry] = audit_of(session, "shift-moved")
    assert entry.subject_id == str(stored.id)
    assert entry.detail["from"]["date"] == "2026-12-01"
    assert entry.detail["to"] == {
        "date": "2026-12-02",
        "start": "10:00",
        "end": "14:00",
        "office": "worcestershire",
    }


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"day": "2026-12-02", "start": "14:00", "end": "10:00"}, "The end must be after"),
        ({"day": "2026-11-30", "start": "08:00", "end": "09:30"}, "already passed"),
        ({"day": "2026-12-02", "start": "10:00", "end": "11:00", "office": "x"}, "no office"),
        ({"day": "2026-13-02", "start": "10:00", "end": "11:00"}, "Enter the date"),
        ({"day": "2026-12-01", "start": "16:00", "end": "18:00"}, "overlap"),
    ],
)
def test_a_move_that_breaks_a_rule_is_refused_saying_why(
    admin: FlaskClient, session: Session, form: dict[str, str], said: str
) -> None:
    person = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY, time(9), time(12))
    shift(session, person, "herefordshire", TUESDAY, time(17), time(19))
    stored = person.shifts[0]
    session.commit()
    token = csrf_of(admin.get(f"/rota/shifts/{stored.id}"))
    before = shifts_of(session)

    answer = admin.post(
        f"/rota/shifts/{stored.id}/move",
        data={"csrf_token": token, "office": "herefordshire"} | form,
    )

    assert answer.status_code == 400
    assert "govuk-error-summary" in answer.get_data(as_text=True)
    assert said in answer.get_data(as_text=True)
    assert shifts_of(session) == before
    assert audit_of(session, "shift-moved") == []


def test_an_admin_removes_one_shift_and_clears_an_advisers_day(
    admin: FlaskClient, session: Session
) -> None:
    alex = adviser(session, "Alex Adams", ANN, "herefordshire", TUESDAY, time(9), time(12))
    shift(session, alex, "herefordshire", TUESDAY, time(13), time(17))
    bryn = adviser(session, "Bryn Bowen", BEN, "worcestershire", WEDNESDAY)
    first_id = alex.shifts[0].id
    session.commit()
    token = csrf_of(admin.get("/rota"))

    removed = admin.post(f"/rota/shifts/{first_id}/remove", data={"csrf_token": token})
    cleared = admin.post(
        "/rota/clear-day", data={"csrf_token": token, "adviser": bryn.id, "day": "2026-12-02"}
    )

    assert (removed.status_code, cleared.status_code) == (303, 303)
    assert shifts_of(session) == [("Alex Adams", "herefordshire", "2026-12-01", time(13), time(17))]
    [gone] = audit_of(session, "shift-removed")
    assert (gone.subject_id, gone.detail["removed"]) == (str(first_id), 1)
    [day] = audit_of(session, "rota-day-cleared")
    assert (day.subject_id, day.detail["date"], day.detail["removed"]) == (
        str(bryn.id),
        "2026-12-02",
        1,
    )


def test_removing_a_shift_in_progress_ends_it_now(admin: FlaskClient, session: Session) -> None:
    person = adviser(session, "Alex Adams", ANN, "herefordshire", MONDAY)  # 09:00-17:00; now 10:00
    [stored] = person.shifts
    session.commit()
    token = csrf_of(admin.get("/rota"))

    admin.post(f"/rota/shifts/{stored.id}/remove", data={"csrf_token": token})

    assert shifts_of(session) == [("Alex Adams", "herefordshire", "2026-11-30", time(9), time(10))]
    assert "a shift in progress ends now" in admin.get("/rota").get_data(as_text=True)
