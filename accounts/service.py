"""Managing staff accounts: add, find, list, disable, change a role or a password.

Each change is written to the audit log by the caller's `actor` (None for the command line).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import Account, Role, StaffSession
from accounts.passwords import WeakPassword, hash_password
from rota.models import Adviser

__all__ = ["AccountError", "WeakPassword"]


class AccountError(ValueError):
    """An account cannot be added or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    """An email as it is kept and matched: trimmed and lowercased."""
    return email.strip().lower()


def parse_role(text: str) -> Role:
    """A role from its name, or an AccountError naming the roles there are."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise AccountError(f"'{text}' is not a role: use one of {names}.") from None


def find(session: Session, email: str) -> Account | None:
    """The account with this email, whatever its case."""
    return session.scalar(select(Account).where(Account.email == normalise_email(email)))


def by_id(session: Session, account_id: int) -> Account | None:
    """The account with this id, if any."""
    return session.get(Account, account_id)


def get(session: Session, email: str) -> Account:
    """The account with this email, or an AccountError saying there is none."""
    account = find(session, email)
    if account is None:
        raise AccountError(f"There is no account for {normalise_email(email)}.")
    return account


def all_accounts(session: Session) -> list[Account]:
    """Every account, by email."""
    return list(session.scalars(select(Account).order_by(Account.email)))


def add(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    adviser: Adviser | None,
    now: datetime,
    actor: Account | None = None,
) -> Account:
    """A new active account; refuses a taken email, a blank name or a short password."""
    email = normalise_email(email)
    if "@" not in email.strip("@") or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"'{email}' is not an email address.")
    if not name.strip():
        raise AccountError("An account needs the person's name.")
    if find(session, email) is not None:
        raise AccountError(f"There is already an account for {email}.")
    account = Account(
        email=email,
        name=name.strip()[:120],
        role=role.value,
        adviser_id=adviser.id if adviser is not None else None,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
    )
    session.add(account)
    session.flush()
    audit.record(
        session, actor, "account-added", "account", account.id, {"role": role.value}, at=now
    )
    return account


def end_sessions(session: Session, account: Account, now: datetime) -> None:
    """Sign the account out everywhere."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.account_id == account.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def disable(
    session: Session, account: Account, now: datetime, actor: Account | None = None
) -> bool:
    """Stop an account from signing in and end its sessions; False if it was already off."""
    if actor is not None and actor.id == account.id:
        raise AccountError("You cannot disable your own account.")
    if not account.active:
        return False
    account.active = False
    end_sessions(session, account, now)
    audit.record(session, actor, "account-disabled", "account", account.id, at=now)
    return True


def set_role(
    session: Session, account: Account, role: Role, now: datetime, actor: Account | None = None
) -> bool:
    """Give an account another role (its sessions end, so it signs in again to use it)."""
    if actor is not None and actor.id == account.id and role is not Role.ADMIN:
        raise AccountError("You cannot take the admin role from your own account.")
    if account.role == role.value:
        return False
    before = account.role
    account.role = role.value
    end_sessions(session, account, now)
    audit.record(
        session,
        actor,
        "account-role-set",
        "account",
        account.id,
        {"from": before, "to": role.value},
        at=now,
    )
    return True


def set_password(
    session: Session,
    account: Account,
    password: str,
    now: datetime,
    actor: Account | None = None,
) -> None:
    """Change an account's password and end its sessions."""
    account.password_hash = hash_password(password)
    end_sessions(session, account, now)
    audit.record(session, actor, "password-set", "account", account.id, at=now)


def advisers_to_link(session: Session) -> list[Adviser]:
    """The advisers of the rota an account may be linked to: those who have not left."""
    return list(
        session.scalars(select(Adviser).where(Adviser.left_at.is_(None)).order_by(Adviser.name))
    )
