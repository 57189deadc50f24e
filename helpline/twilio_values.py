"""Values from Twilio bounded before anything reaches the database, whether they came in a
webhook's form or from Twilio's REST API: an identifier or a status word that does not fit its
column, a number holding a control character, or a figure beyond any real call counts as
missing. PostgreSQL refuses a NUL byte, and with it the whole statement it is in."""

from __future__ import annotations

import re

SID_LENGTH = 64  # the columns that keep Twilio's identifiers (CallSid, RecordingSid, ...)
STATUS_WORD = re.compile(r"[a-z][a-z-]{0,19}")  # 'in-progress'; the status columns hold 20
NUMBER_LENGTH = 32  # the column that keeps the number a caller dialled
LONGEST_SECONDS = 7 * 24 * 3600  # far beyond any call or recording
LONGEST_SEQUENCE = 1_000_000  # a call's status callbacks number a handful


def identifier(value: str | None) -> str | None:
    """A Twilio identifier (letters and digits, at most 64), or None when missing or malformed."""
    value = (value or "").strip()
    if 0 < len(value) <= SID_LENGTH and value.isascii() and value.isalnum():
        return value
    return None


def status_word(value: str | None) -> str:
    """A status such as 'in-progress' (lower-case letters and hyphens); '' when malformed."""
    value = (value or "").strip()
    return value if STATUS_WORD.fullmatch(value) else ""


def dialled_number(value: str | None) -> str:
    """The number a caller dialled, as Twilio gives it; '' when missing, too long to be one, or
    holding a control character."""
    value = (value or "").strip()
    return value if len(value) <= NUMBER_LENGTH and value.isprintable() else ""


def optional_int(value: str | None, upper: int = LONGEST_SECONDS) -> int | None:
    """A whole number from 0 to `upper`; None when missing, malformed or out of range."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 <= number <= upper else None


def to_int(value: str | None, upper: int = LONGEST_SECONDS) -> int:
    """A whole number of at most `upper`; 0 when missing, malformed or out of range."""
    try:
        number = int(value or 0)
    except ValueError:
        return 0
    return max(number, 0) if number <= upper else 0
