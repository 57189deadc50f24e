"""Signing in: the password check, throttling of repeated failures, and its audit entries.

Five failed sign-ins for one email, or from one address, within 15 minutes make the next
attempt wait until the oldest of those five is 15 minutes old.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accounts import audit, passwords
from accounts.models import Account, SignInAttempt, StaffSession
from accounts.service import find, normalise_email
from accounts.sessions import end, start

WINDOW = timedelta(minutes=15)
LIMIT = 5


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str
    staff_session: StaffSession


@dataclass(frozen=True)
class Refused:
    """Wrong email or password, or a disabled account: the page does not say which."""


@dataclass(frozen=True)
class Throttled:
    retry_after_s: int


Outcome = SignedIn | Refused | Throttled


def wait_needed(session: Session, email: str, address: str, now: datetime) -> int:
    """Seconds to wait before another try for this email or from this address (0: none)."""
    since = now - WINDOW
    waits = [0]
    for column, value in ((SignInAttempt.email, email), (SignInAttempt.address, address)):
        times = list(
            session.scalars(
                select(SignInAttempt.at)
                .where(column == value, SignInAttempt.at > since)
                .order_by(SignInAttempt.at)
            )
        )
        if len(times) >= LIMIT:
            free_at = times[len(times) - LIMIT] + WINDOW
            waits.append(max(1, math.ceil((free_at - now).total_seconds())))
    return max(waits)


def sign_in(session: Session, email: str, password: str, address: str, now: datetime) -> Outcome:
    """Check an email and password from `address`; start a session when they match."""
    email = normalise_email(email)[:254]
    address = address[:64]
    wait = wait_needed(session, email, address, now)
    if wait:
        audit.record(
            session,
            None,
            "sign-in-throttled",
            "account",
            None,
            {"retry_after_s": wait},
            at=now,
            actor_email=email,
        )
        return Throttled(wait)
    account = find(session, email) if email else None
    matches = passwords.verify(account.password_hash if account else None, password)
    if account is None or not matches or not account.active:
        session.execute(delete(SignInAttempt).where(SignInAttempt.at <= now - WINDOW))
        session.add(SignInAttempt(email=email, address=address, at=now))
        reason = "unknown-email" if account is None else "wrong-password"
        if account is not None and matches:
            reason = "disabled"
        audit.record(  # the actor is whoever typed the email, not its account
            session,
            None,
            "sign-in-failed",
            "account",
            account.id if account else None,
            {"reason": reason},
            at=now,
            actor_email=email,
        )
        return Refused()
    if passwords.needs_rehash(account.password_hash) and len(password) >= passwords.MIN_LENGTH:
        account.password_hash = passwords.hash_password(password)
    session.execute(delete(SignInAttempt).where(SignInAttempt.email == email))
    token, staff_session = start(session, account, now)
    audit.record(session, account, "sign-in", "account", account.id, at=now)
    return SignedIn(account, token, staff_session)


def sign_out(session: Session, staff_session: StaffSession, now: datetime) -> None:
    """End a session and record that its account signed out."""
    end(staff_session, now)
    account = staff_session.account
    audit.record(session, account, "sign-out", "account", account.id, at=now)


def sign_in_verified(
    session: Session, email: str, method: str, now: datetime
) -> SignedIn | Refused:
    """Start a session for the active account whose email an identity provider (`method`)
    has verified; refuse, and audit the refusal, when there is none."""
    email = normalise_email(email)[:254]
    account = find(session, email)
    if account is None or not account.active:
        reason = "unknown-email" if account is None else "disabled"
        audit.record(
            session,
            None,
            "sign-in-failed",
            "account",
            account.id if account else None,
            {"reason": reason, "method": method},
            at=now,
            actor_email=email,
        )
        return Refused()
    token, staff_session = start(session, account, now)
    audit.record(session, account, "sign-in", "account", account.id, {"method": method}, at=now)
    return SignedIn(account, token, staff_session)
