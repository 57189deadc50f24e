"""The offices: hours, open now or not, closures; closing and reopening, for duty officers and
admins."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, request
from flask.typing import ResponseReturnValue

from accounts import audit
from accounts.models import Role
from callbacks.clocks import reopen_office
from helpline.staff.web import current_account, db, now, requires, runtime
from rota.offices import office_states
from rota.service import UnknownOffice, close_office

bp = Blueprint("staff_offices", __name__)

WHO = (Role.DUTY_OFFICER, Role.ADMIN)
FIELDS = ("from_date", "from_time", "until_date", "until_time", "reason")


class _Unreadable(ValueError):
    """A date or time field that is not one; `field` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _offices_page(
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    failed: str | None = None,
) -> ResponseReturnValue:
    page = render_template(
        "staff/offices.html",
        offices=office_states(db(), runtime().settings, now()),
        errors=errors,
        failed=failed,
        form={key: request.form.get(key, "") for key in FIELDS} if failed else {},
        field_errors={e["href"].lstrip("#"): e["text"] for e in errors or []},
        done=get_flashed_messages(),
    )
    return page, status


@bp.get("/offices")
@requires(*WHO)
def offices() -> ResponseReturnValue:
    """Each office with its hours, whether it is open now, and its closures."""
    return _offices_page()


def _local(key: str, which: str) -> datetime | None:
    """The form's `which` date and time as an instant (local time); None when both are empty.
    A date without a time means the start of that day."""
    raw_day = request.form.get(f"{which}_date", "").strip()
    raw_time = request.form.get(f"{which}_time", "").strip()
    if not raw_day and not raw_time:
        return None
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise _Unreadable("Enter the date, like 2026-12-24", f"{key}-{which}-date") from None
    try:
        at = time.fromisoformat(raw_time) if raw_time else time(0)
    except ValueError:
        raise _Unreadable("Enter the time, like 13:00", f"{key}-{which}-time") from None
    return datetime.combine(day, at, tzinfo=runtime().settings.timezone)


@bp.post("/offices/<key>/close")
@requires(*WHO)
def close(key: str) -> ResponseReturnValue:
    """Close an office from a time (now when empty) until a time, or until further notice."""
    settings = runtime().settings
    try:
        starts, until = _local(key, "from"), _local(key, "until")
        closure = close_office(
            db(), settings, key, now(), until, request.form.get("reason", "").strip(), starts
        )
    except UnknownOffice:
        return _offices_page(404, [{"text": "There is no such office", "href": "#offices"}])
    except _Unreadable as exc:
        return _offices_page(400, [{"text": str(exc), "href": f"#{exc.field}"}], key)
    except ValueError as exc:
        field = "reason" if "reason" in str(exc) else "until-date"
        text = str(exc)[:1].upper() + str(exc)[1:]
        return _offices_page(400, [{"text": text, "href": f"#{key}-{field}"}], key)
    detail = {
        "starts_at": closure.starts_at.isoformat(),
        "ends_at": closure.ends_at.isoformat() if closure.ends_at else None,
    }
    audit.record(db(), current_account(), "office-closed", "office", key, detail, at=now())
    name = settings.offices[key].name
    flash(f"{name} is closed" + (" until further notice." if until is None else "."))
    return redirect("/offices", 303)


@bp.post("/offices/<key>/reopen")
@requires(*WHO)
def reopen(key: str) -> ResponseReturnValue:
    """End the office's closures, and start the clocks of callbacks that waited for it."""
    account = current_account()
    actor = account.name if account is not None else "staff"
    try:
        ended, started = reopen_office(db(), runtime().settings, key, now(), actor)
    except UnknownOffice:
        return _offices_page(404, [{"text": "There is no such office", "href": "#offices"}])
    detail = {"closures_ended": ended, "clocks_started": started}
    audit.record(db(), account, "office-reopened", "office", key, detail, at=now())
    name = runtime().settings.offices[key].name
    waiting = f" {started} waiting callback(s) now have a deadline." if started else ""
    flash(f"{name} is reopened ({ended} closure(s) ended).{waiting}")
    return redirect("/offices", 303)
