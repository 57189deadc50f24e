"""The callback queue, an adviser's own callbacks and their away switch, and taking one."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from accounts import audit
from accounts.models import Account, Role
from callbacks import access, desk, duty, listing
from callbacks.common import CallbackError
from callbacks.listing import STATUSES, QueueFilter
from callbacks.states import CallbackStatus
from helpline.staff.web import current_account, current_role, db, now, requires, runtime

bp = Blueprint("staff_queue", __name__)

WORKERS = (Role.ADVISER, Role.DUTY_OFFICER)
STATUS_NAMES: dict[str, str] = {
    CallbackStatus.OPEN.value: "Open",
    CallbackStatus.ASSIGNED.value: "Assigned",
    CallbackStatus.COMPLETED.value: "Completed",
    CallbackStatus.UNREACHABLE.value: "Unreachable",
    CallbackStatus.CANCELLED.value: "Cancelled",
}


@bp.app_template_filter("local")
def local(at: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    """A moment in the service's time zone, for a page."""
    if at is None:
        return "not known"
    return at.astimezone(runtime().settings.timezone).strftime(fmt)


def me() -> Account:
    """The signed-in account (the views here are behind `requires`)."""
    account = current_account()
    if account is None:  # pragma: no cover - `requires` sends nobody here
        abort(403)
    return account


def sees_all() -> bool:
    """Whether the signed-in person may open, play and work every callback."""
    return current_role() == Role.DUTY_OFFICER


def _filters() -> tuple[QueueFilter, dict[str, str], list[dict[str, str]]]:
    """The queue's filters from the query string, what to show in the form, and any errors."""
    args = request.args
    shown = {key: args.get(key, "") for key in ("office", "status")}
    flags = {key: args.get(key) == "yes" for key in ("overdue", "unassigned", "no_number")}
    errors = []
    office = shown["office"] or None
    if office is not None and office not in runtime().settings.offices:
        errors.append({"text": "Choose a county from the list", "href": "#office"})
        office = None
    status = shown["status"] or None
    if status is not None and status not in STATUSES:
        errors.append({"text": "Choose a status from the list", "href": "#status"})
        status = None
    wanted = QueueFilter(office=office, status=status, **flags)
    shown.update({key: "yes" if value else "" for key, value in flags.items()})
    return wanted, shown, errors


@bp.get("/callbacks")
@requires(*WORKERS)
def queue() -> ResponseReturnValue:
    """The queue across both counties, most urgent first; numbers for the duty officer only."""
    wanted, shown, errors = _filters()
    settings, all_seen = runtime().settings, sees_all()
    rows = listing.queue(db(), settings, now(), wanted, show_numbers=all_seen)
    acting = access.acting_as(me().adviser_id, all_seen)
    openable = {row.callback_id for row in rows if access.may_act_on(row.assigned_to_id, acting)}
    page = render_template(
        "staff/queue.html",
        rows=rows,
        shown=shown,
        errors=errors,
        sees_all=all_seen,
        openable=openable,
        my_adviser=me().adviser_id,
        offices={key: office.name for key, office in settings.offices.items()},
        statuses=STATUS_NAMES,
        rota=duty.rota_today(db(), settings, now()) if all_seen else None,
    )
    return page, 400 if errors else 200


@bp.get("/callbacks/mine")
@requires(*WORKERS)
def mine() -> ResponseReturnValue:
    """The callbacks assigned to the signed-in person's adviser, and their away switch."""
    adviser_id = me().adviser_id
    if adviser_id is None:
        return render_template("staff/mine.html", linked=False)
    session = db()
    return render_template(
        "staff/mine.html",
        linked=True,
        rows=listing.my_callbacks(session, runtime().settings, adviser_id, now()),
        away=duty.is_away(session, adviser_id),
    )


@bp.post("/callbacks/mine/away")
@requires(*WORKERS)
def set_away() -> ResponseReturnValue:
    """Set the signed-in person's adviser away or available."""
    account = me()
    if account.adviser_id is None:
        return redirect("/callbacks/mine", 303)
    away = request.form.get("away") == "yes"
    if duty.set_away(db(), account.adviser_id, away):
        action = "set-away" if away else "set-available"
        audit.record(db(), account, action, "adviser", account.adviser_id, at=now())
    flash(
        "You are set away: no helpline calls ring you and no new callbacks are given to you."
        if away
        else "You are available again."
    )
    return redirect("/callbacks/mine", 303)


@bp.post("/callbacks/<int:callback_id>/take")
@requires(*WORKERS)
def take(callback_id: int) -> ResponseReturnValue:
    """Take an open, unassigned callback from the queue."""
    account = me()
    if account.adviser_id is None:
        abort(403)
    version = request.form.get("version", type=int)
    try:
        done = desk.take(
            db(),
            runtime().settings,
            callback_id,
            account.adviser_id,
            account.name,
            now(),
            expected_version=version,
        )
    except desk.Changed as changed:
        flash(changed_text(changed), "error")
        return redirect("/callbacks", 303)
    except CallbackError:
        abort(404)
    audit.record(db(), account, "take", "callback", callback_id, at=now())
    flash("You took this callback: it is yours now." + (f" {done.warning}" if done.warning else ""))
    return redirect(f"/callbacks/{callback_id}", 303)


def changed_text(changed: desk.Changed) -> str:
    """What changed since the person looked, in words: status, who, when."""
    state = changed.current
    text = f"This callback was changed meanwhile: it is now {STATUS_NAMES.get(state.status, state.status).lower()}"  # noqa: E501
    if state.assigned_to:
        text += f", with {state.assigned_to}"
    if state.last_change and state.last_change_at:
        what = state.last_change.replace("-", " ")
        text += f" (last change: {what} by {state.last_change_by}, {local(state.last_change_at)})"
    return text + ". Nothing of yours was saved: check it and try again."
