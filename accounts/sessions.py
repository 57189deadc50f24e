"""Server-side sessions of the staff pages: a random token in the browser's cookie, only its
hash in the database; a session ends at sign-out, after an hour idle and after 12 hours."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, StaffSession

IDLE = timedelta(hours=1)
LONGEST = timedelta(hours=12)
# last_seen_at is written at most this often, so that every page is not a write.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, account: Account, now: datetime) -> tuple[str, StaffSession]:
    """A new session for `account`: the token for the cookie, and the stored session."""
    token = secrets.token_urlsafe(32)
    staff_session = StaffSession(
        token_hash=_digest(token),
        csrf_token=secrets.token_urlsafe(32),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
    )
    session.add(staff_session)
    session.flush()
    return token, staff_session


def is_live(staff_session: StaffSession, now: datetime) -> bool:
    """Whether a session may still be used at `now`."""
    return (
        staff_session.ended_at is None
        and staff_session.account.active
        and now - staff_session.last_seen_at < IDLE
        and now - staff_session.created_at < LONGEST
    )


def resume(session: Session, token: str, now: datetime) -> StaffSession | None:
    """The live session whose token this is, marked as seen now; None if there is none."""
    if not token:
        return None
    found = session.scalar(select(StaffSession).where(StaffSession.token_hash == _digest(token)))
    if found is None or not is_live(found, now):
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        found.last_seen_at = now
    return found


def end(staff_session: StaffSession, now: datetime) -> None:
    """End a session (sign-out)."""
    if staff_session.ended_at is None:
        staff_session.ended_at = now


def csrf_matches(expected: str, given: str | None) -> bool:
    """Whether a form's CSRF token is the one expected, compared in constant time."""
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)
