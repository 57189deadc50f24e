"""One callback's page and the actions on it: assign, close, note, call back, outcome.

Each form carries the version the person saw; when the callback changed meanwhile the page is
shown again with what changed, keeping what they typed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from accounts import audit
from accounts.models import Role
from callbacks import access, desk, duty
from callbacks.common import CallbackError
from callbacks.page import NotYours, callback_page
from callbacks.states import OUTCOMES
from helpline.staff.queue import STATUS_NAMES, WORKERS, changed_text, me, sees_all
from helpline.staff.web import db, now, requires, runtime
from webhooks.callback_voice import attempt_webhooks

bp = Blueprint("staff_callback", __name__)

OUTCOME_NAMES = {
    "spoke": "Spoke to the parent",
    "left-message": "Left a message",
    "no-answer": "No answer",
    "wrong-number": "Wrong number",
}


def _page(
    callback_id: int,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """The callback's page, or 404/403 when there is none or it is not the person's."""
    all_seen = sees_all()
    try:
        shown = callback_page(
            db(),
            runtime().settings,
            callback_id,
            now(),
            adviser_id=me().adviser_id,
            may_see_all=all_seen,
        )
    except NotYours:
        abort(403)
    except CallbackError:
        abort(404)
    page = render_template(
        "staff/callback.html",
        cb=shown,
        row=shown.row,
        sees_all=all_seen,
        advisers=duty.advisers(db()) if all_seen else [],
        statuses=STATUS_NAMES,
        outcomes={o.value: OUTCOME_NAMES[o.value] for o in OUTCOMES},
        linked=me().adviser_id is not None,
        errors=errors,
        field_errors={e["href"].lstrip("#"): e["text"] for e in errors or []},
        form=form or {},
    )
    return page, status


def _version() -> int | None:
    return request.form.get("version", type=int)


def _done(callback_id: int, text: str) -> ResponseReturnValue:
    flash(text)
    return redirect(f"/callbacks/{callback_id}", 303)


def _refused(callback_id: int, exc: CallbackError, form: dict[str, str]) -> ResponseReturnValue:
    """The page again, saying why the action was refused, with the person's text kept."""
    if isinstance(exc, NotYours):
        abort(403)
    if isinstance(exc, desk.Changed):
        return _page(callback_id, 409, [{"text": changed_text(exc), "href": "#summary"}], form)
    href = "#" + next(iter(form), "summary")
    return _page(callback_id, 400, [{"text": str(exc).capitalize(), "href": href}], form)


@bp.get("/callbacks/<int:callback_id>")
@requires(*WORKERS)
def show(callback_id: int) -> ResponseReturnValue:
    """A callback: its messages to play, attempts, notes, history and the forms to work it."""
    return _page(callback_id)


@bp.post("/callbacks/<int:callback_id>/assign")
@requires(Role.DUTY_OFFICER)
def assign(callback_id: int) -> ResponseReturnValue:
    """Assign or reassign the callback to an adviser (off shift allowed, with a warning)."""
    account = me()
    adviser_id = request.form.get("adviser", type=int)
    if adviser_id is None:
        errors = [{"text": "Choose an adviser", "href": "#adviser"}]
        return _page(callback_id, 400, errors)
    try:
        done = desk.assign(
            db(),
            runtime().settings,
            callback_id,
            adviser_id,
            account.name,
            now(),
            expected_version=_version(),
        )
    except CallbackError as exc:
        return _refused(callback_id, exc, {})
    audit.record(
        db(), account, "assign", "callback", callback_id, {"adviser_id": adviser_id}, at=now()
    )
    text = f"Assigned to {done.assigned_to}."
    if done.warning:
        flash(done.warning, "warning")
    return _done(callback_id, text)


@bp.post("/callbacks/<int:callback_id>/close")
@requires(Role.DUTY_OFFICER)
def close(callback_id: int) -> ResponseReturnValue:
    """Close the callback with the reason no call back is needed."""
    account = me()
    reason = request.form.get("reason", "").strip()
    form = {"reason": reason}
    if not reason:
        return _page(
            callback_id, 400, [{"text": "Enter why it needs no call back", "href": "#reason"}], form
        )
    try:
        desk.close(db(), callback_id, reason, account.name, now(), expected_version=_version())
    except CallbackError as exc:
        return _refused(callback_id, exc, form)
    audit.record(db(), account, "close", "callback", callback_id, at=now())
    return _done(callback_id, "The callback is closed.")


@bp.post("/callbacks/<int:callback_id>/notes")
@requires(*WORKERS)
def add_note(callback_id: int) -> ResponseReturnValue:
    """Add a note for colleagues."""
    account = me()
    text = request.form.get("note", "")
    try:
        desk.add_note(
            db(),
            callback_id,
            account.name,
            text,
            now(),
            author_account_id=account.id,
            as_adviser=access.acting_as(account.adviser_id, sees_all()),
        )
    except CallbackError as exc:
        return _refused(callback_id, exc, {"note": text})
    audit.record(db(), account, "add-note", "callback", callback_id, at=now())
    return _done(callback_id, "Your note was added.")


@bp.post("/callbacks/<int:callback_id>/outcome")
@requires(*WORKERS)
def outcome(callback_id: int) -> ResponseReturnValue:
    """Record how the attempt awaiting an outcome went, with a note if given."""
    account = me()
    chosen = request.form.get("outcome", "")
    note = request.form.get("outcome_note", "")
    form = {"outcome": chosen, "outcome_note": note}
    if chosen not in OUTCOME_NAMES:
        return _page(
            callback_id, 400, [{"text": "Choose how the call went", "href": "#outcome"}], form
        )
    try:
        done = desk.record_outcome(
            db(),
            runtime().settings,
            callback_id,
            chosen,
            account.name,
            now(),
            expected_version=_version(),
            note=note.strip() or None,
            author_account_id=account.id,
            as_adviser=access.acting_as(account.adviser_id, sees_all()),
        )
    except CallbackError as exc:
        return _refused(callback_id, exc, form)
    audit.record(
        db(),
        account,
        "outcome",
        "callback",
        callback_id,
        {"outcome": chosen, "status": done.status},
        at=now(),
    )
    status = STATUS_NAMES.get(done.status, done.status).lower()
    return _done(callback_id, f"Outcome recorded: the callback is {status}.")


@bp.post("/callbacks/<int:callback_id>/call")
@requires(*WORKERS)
def call(callback_id: int) -> ResponseReturnValue:
    """Ring the person's own phone, then the parent, through the calling-back service."""
    account = me()
    if account.adviser_id is None:
        errors = [
            {
                "text": "Your account is not linked to an adviser of the rota, so there is "
                "no phone to ring you on",
                "href": "#call",
            }
        ]
        return _page(callback_id, 400, errors)
    name, adviser_id, all_seen = account.name, account.adviser_id, sees_all()
    db().commit()  # the calling-back service works in transactions of its own
    try:
        result = desk.call_back(
            runtime(), callback_id, name, adviser_id, urls=attempt_webhooks, may_see_all=all_seen
        )
    except CallbackError as exc:
        return _refused(callback_id, exc, {"call": ""})
    audit.record(
        db(),
        me(),
        "call-back",
        "callback",
        callback_id,
        {"attempt_id": result.attempt_id, "placed": result.placed},
        at=now(),
    )
    if result.placed:
        return _done(
            callback_id,
            "Ringing your phone now: press 1 when it rings and the "
            "parent is called from the helpline's number.",
        )
    flash(
        "No call was placed: this service has no Twilio credentials configured. The "
        f"attempt (number {result.attempt_id}) is recorded: record its outcome below.",
        "warning",
    )
    return redirect(f"/callbacks/{callback_id}", 303)
