"""Staff accounts, their server-side sessions, sign-in attempts and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpline.db import Base
from rota.models import Adviser


class Role(StrEnum):
    """What an account may do on the staff pages (PRODUCT.md, "Staff pages")."""

    ADVISER = "adviser"
    DUTY_OFFICER = "duty-officer"
    MANAGER = "manager"
    ADMIN = "admin"


class Account(Base):
    """A person who signs in to the staff pages; `email` is kept lowercased, so it matches
    whatever its case; an adviser or duty officer is linked to their adviser of the rota."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    adviser: Mapped[Adviser | None] = relationship()


class StaffSession(Base):
    """A signed-in browser: only a hash of its token is kept, so a copy of the database
    cannot be used to sign in; `csrf_token` is bound to it for the forms it is shown."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class SignInAttempt(Base):
    """One failed sign-in, by the email given (lowercased) and the address it came from,
    counted for throttling."""

    __tablename__ = "sign_in_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    """Something a member of staff did or tried. Kept apart from what it describes (no
    foreign keys), so the entry outlives it; only ever added to, never changed."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None]
    actor_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
