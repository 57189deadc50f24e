"""The rota: this week and next for everyone; uploading, moving and removing shifts for admins."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue

from accounts import audit
from accounts.models import Role
from helpline.staff.web import current_account, current_role, db, now, requires, runtime
from rota import shift_changes
from rota.importer import RotaImportError, import_rota
from rota.models import Shift
from rota.service import Stopped, remove_day
from rota.week import fortnight

bp = Blueprint("staff_rota", __name__)

VIEWERS = (Role.ADVISER, Role.DUTY_OFFICER, Role.MANAGER, Role.ADMIN)
MAX_UPLOAD = 1_000_000  # bytes: a year of both teams' shifts is far less


@bp.app_template_filter("local_long")
def local(at: datetime | None, fmt: str = "%-d %B %Y %H:%M") -> str:
    """An instant as the offices read it, in the service's time zone."""
    if at is None:
        return ""
    return at.astimezone(runtime().settings.timezone).strftime(fmt)


def _rota_page(
    status: int = 200, errors: list[dict[str, str]] | None = None
) -> ResponseReturnValue:
    settings = runtime().settings
    page = render_template(
        "staff/rota.html",
        rota=fortnight(db(), settings, now()),
        offices=settings.offices,
        editing=current_role() == Role.ADMIN,
        errors=errors,
        done=get_flashed_messages(),
    )
    return page, status


@bp.get("/rota")
@requires(*VIEWERS)
def rota() -> ResponseReturnValue:
    """This week's and next week's shifts of both teams, and the gaps in them."""
    return _rota_page()


@bp.post("/rota/upload")
@requires(Role.ADMIN)
def upload() -> ResponseReturnValue:
    """Import a rota CSV as `helpline rota import` does: all of it, or nothing."""
    sent = request.files.get("rota_file")
    data = sent.read(MAX_UPLOAD + 1) if sent is not None else b""
    if not data:
        return _rota_page(400, [{"text": "Choose a rota CSV file", "href": "#rota-file"}])
    if len(data) > MAX_UPLOAD:
        too_big = "The file is larger than 1 MB; nothing was imported"
        return _rota_page(400, [{"text": too_big, "href": "#rota-file"}])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        not_text = "The file is not a UTF-8 CSV file; nothing was imported"
        return _rota_page(400, [{"text": not_text, "href": "#rota-file"}])
    try:
        result = import_rota(db(), runtime().settings, text, now())
    except RotaImportError as exc:
        errors = [
            {
                "text": "Nothing was imported: correct these lines and upload the file again",
                "href": "#rota-file",
            }
        ]
        errors += [{"text": problem, "href": "#rota-file"} for problem in exc.errors]
        return _rota_page(400, errors)
    audit.record(db(), current_account(), "rota-imported", "rota", None, asdict(result), at=now())
    flash(result.summary())
    return redirect("/rota", 303)


def _shift_page(
    shift: Shift, status: int = 200, errors: list[dict[str, str]] | None = None
) -> ResponseReturnValue:
    form = {key: request.form.get(key, "") for key in ("day", "start", "end", "office")}
    page = render_template(
        "staff/rota_shift.html",
        shift=shift,
        offices=runtime().settings.offices,
        form=form if errors else {},
        errors=errors,
        field_errors={e["href"].lstrip("#"): e["text"] for e in errors or []},
    )
    return page, status


def _shift(shift_id: int) -> Shift:
    found = shift_changes.shift_by_id(db(), shift_id)
    if found is None:
        abort(404)
    return found


@bp.get("/rota/shifts/<int:shift_id>")
@requires(Role.ADMIN)
def shift_page(shift_id: int) -> ResponseReturnValue:
    """One shift, with forms to move it or remove it."""
    return _shift_page(_shift(shift_id))


def _placing() -> shift_changes.Placing:
    """The move form's fields; shift_changes.ShiftError naming the first unreadable one."""
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        raise shift_changes.ShiftError("Enter the date, like 2026-11-30", "day") from None
    times: list[time] = []
    for field, label in (("start", "start"), ("end", "end")):
        try:
            times.append(time.fromisoformat(request.form.get(field, "")))
        except ValueError:
            raise shift_changes.ShiftError(f"Enter the {label} time, like 09:00", field) from None
    return shift_changes.Placing(day, times[0], times[1], request.form.get("office", ""))


@bp.post("/rota/shifts/<int:shift_id>/move")
@requires(Role.ADMIN)
def move(shift_id: int) -> ResponseReturnValue:
    """Move a shift to another date, times or office."""
    shift = _shift(shift_id)
    try:
        to = _placing()
        was = shift_changes.move_shift(db(), runtime().settings, shift, to, now())
    except shift_changes.ShiftError as exc:
        return _shift_page(shift, 400, [{"text": str(exc), "href": f"#{exc.field}"}])
    except ValueError as exc:  # an office nobody configured
        return _shift_page(shift, 400, [{"text": str(exc), "href": "#office"}])
    detail = {"from": was.describe(), "to": to.describe()}
    audit.record(db(), current_account(), "shift-moved", "shift", shift.id, detail, at=now())
    flash(f"The shift was moved to {to.day:%-d %B %Y}, {to.start:%H:%M} to {to.end:%H:%M}.")
    return redirect("/rota", 303)


def _said(stopped: Stopped) -> str:
    if not stopped.changed:
        return "Nothing changed: shifts already worked stay on the rota."
    parts = ["a shift in progress ends now"] * bool(stopped.cut_short)
    if stopped.removed:
        parts.append(f"{stopped.removed} shift{'s' * (stopped.removed != 1)} removed")
    return "Done: " + " and ".join(parts) + "."


@bp.post("/rota/shifts/<int:shift_id>/remove")
@requires(Role.ADMIN)
def remove(shift_id: int) -> ResponseReturnValue:
    """Remove one shift (one in progress ends now; one already worked stays)."""
    shift = _shift(shift_id)
    where = shift_changes.placing(shift).describe()
    stopped = shift_changes.remove_shift(db(), runtime().settings, shift, now())
    detail = where | asdict(stopped)
    audit.record(db(), current_account(), "shift-removed", "shift", shift_id, detail, at=now())
    flash(_said(stopped))
    return redirect("/rota", 303)


@bp.post("/rota/clear-day")
@requires(Role.ADMIN)
def clear_day() -> ResponseReturnValue:
    """Clear an adviser's shifts on a date, as `helpline rota remove` does."""
    raw_id = request.form.get("adviser", "")
    adviser = shift_changes.adviser_by_id(db(), int(raw_id)) if raw_id.isdigit() else None
    if adviser is None:
        return _rota_page(400, [{"text": "Choose an adviser", "href": "#clear-adviser"}])
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        return _rota_page(400, [{"text": "Enter the date, like 2026-11-30", "href": "#clear-day"}])
    stopped = remove_day(db(), runtime().settings, adviser, day, now())
    detail = {"date": day.isoformat()} | asdict(stopped)
    audit.record(
        db(), current_account(), "rota-day-cleared", "adviser", adviser.id, detail, at=now()
    )
    flash(_said(stopped) if stopped != Stopped(0, 0) else f"There were no shifts on {day}.")
    return redirect("/rota", 303)
