"""Staff accounts and the audit log, for admins."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue

from accounts import audit, service
from accounts.models import Role
from accounts.passwords import WeakPassword
from helpline.staff.web import current_account, db, now, requires
from rota.models import Adviser

bp = Blueprint("staff_admin", __name__)

ROLE_NAMES = {
    Role.ADVISER: "Adviser",
    Role.DUTY_OFFICER: "Duty officer",
    Role.MANAGER: "Manager",
    Role.ADMIN: "Admin",
}


def _users_page(
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> ResponseReturnValue:
    session = db()
    page = render_template(
        "staff/admin_users.html",
        accounts=service.all_accounts(session),
        advisers=service.advisers_to_link(session),
        roles=ROLE_NAMES,
        errors=errors,
        field_errors={e["href"].lstrip("#"): e["text"] for e in errors or []},
        form=form or {},
        done=request.args.get("done"),
    )
    return page, status


@bp.get("/admin/users")
@requires(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Every staff account, with forms to add one, change a role or disable one."""
    return _users_page()


@bp.post("/admin/users")
@requires(Role.ADMIN)
def add_user() -> ResponseReturnValue:
    """Add an account from the form."""
    form = {key: request.form.get(key, "") for key in ("email", "name", "role", "adviser")}
    session = db()
    try:
        role = service.parse_role(form["role"])
        adviser = session.get(Adviser, int(form["adviser"])) if form["adviser"] else None
        if form["adviser"] and adviser is None:
            error = {"text": "Choose an adviser of the rota, or none", "href": "#adviser"}
            return _users_page(400, [error], form)
        service.add(
            session,
            email=form["email"],
            name=form["name"],
            role=role,
            password=request.form.get("password", ""),
            adviser=adviser,
            now=now(),
            actor=current_account(),
        )
    except WeakPassword as exc:
        return _users_page(400, [{"text": str(exc), "href": "#password"}], form)
    except (service.AccountError, ValueError) as exc:
        where = "#role" if "role" in str(exc) else "#name" if "name" in str(exc) else "#email"
        return _users_page(400, [{"text": str(exc), "href": where}], form)
    return redirect("/admin/users?done=added", 303)


@bp.post("/admin/users/<int:account_id>/role")
@requires(Role.ADMIN)
def set_role(account_id: int) -> ResponseReturnValue:
    """Give an account another role."""
    session = db()
    account = service.by_id(session, account_id)
    if account is None:
        return _users_page(404, [{"text": "There is no such account", "href": "#accounts"}])
    try:
        role = service.parse_role(request.form.get("role", ""))
        service.set_role(session, account, role, now(), actor=current_account())
    except service.AccountError as exc:
        return _users_page(400, [{"text": str(exc), "href": "#accounts"}])
    return redirect("/admin/users?done=role", 303)


@bp.post("/admin/users/<int:account_id>/disable")
@requires(Role.ADMIN)
def disable(account_id: int) -> ResponseReturnValue:
    """Stop an account from signing in."""
    session = db()
    account = service.by_id(session, account_id)
    if account is None:
        return _users_page(404, [{"text": "There is no such account", "href": "#accounts"}])
    try:
        service.disable(session, account, now(), actor=current_account())
    except service.AccountError as exc:
        return _users_page(400, [{"text": str(exc), "href": "#accounts"}])
    return redirect("/admin/users?done=disabled", 303)


@bp.get("/audit")
@requires(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    """The audit log, newest first, a page at a time."""
    number = request.args.get("page", "1")
    shown = audit.page(db(), int(number) if number.isdigit() else 1)
    return render_template("staff/audit.html", page=shown)
