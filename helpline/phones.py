"""Telephone numbers: withheld-number placeholders, and UK numbers in E.164."""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

import phonenumbers

# What Twilio sends in `From` when the caller's number is hidden. Some parse as real numbers
# (+266... is Lesotho), so they must be recognised before any parsing.
WITHHELD = frozenset(
    {
        "",
        "+266696687",
        "+7378742833",
        "+86282452253",
        "+8656696",
        "+2562533",
        "anonymous",
        "restricted",
        "unknown",
        "private",
        "unavailable",
        "blocked",
        "withheld",
    }
)


def is_withheld(raw: str | None) -> bool:
    """Whether a `From` value means the caller's number is hidden."""
    return raw is None or raw.strip().lower() in WITHHELD


def to_e164(raw: str, region: str = "GB") -> str | None:
    """The number in E.164 if it is a possible number (drama ranges included), else None."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_number(raw: str | None) -> str | None:
    """A caller's identity from Twilio's `From`, or None when withheld or unusable."""
    if raw is None or is_withheld(raw):
        return None
    return to_e164(raw)


def uk_number(raw: str) -> str | None:
    """A UK number typed by a person or a keypad (07700 900123, +44...), in E.164, else None.

    Stricter than `to_e164`: a number too short to dial (which keeps its leading zero when
    parsed) or a local-only number is refused, since nobody could be called back on it.
    """
    try:
        parsed = phonenumbers.parse(raw.strip(), "GB")
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE or parsed.italian_leading_zero:
        return None
    if parsed.country_code != 44:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Costly(StrEnum):
    """A kind of number that costs the service more than an ordinary call to ring."""

    PREMIUM_RATE = "premium-rate"  # 09
    SERVICE = "service"  # 0871, 0872, 0873
    PERSONAL = "personal"  # 070
    DIRECTORY = "directory"  # 118 services


# By the start of the national significant number (the digits after the trunk 0 or +44).
# A prefix list rather than phonenumbers' number types: those also class 0870 and 084x as
# premium rate, and know nothing of 118 services, which are short numbers.
_COSTLY_PREFIXES = (
    ("9", Costly.PREMIUM_RATE),
    ("871", Costly.SERVICE),
    ("872", Costly.SERVICE),
    ("873", Costly.SERVICE),
    ("70", Costly.PERSONAL),
)
_DIRECTORY = re.compile(r"118[0-9]{3}")  # dialled as is; 0118 is Reading


def extra_cost(raw: str) -> Costly | None:
    """Which kind of costly number `raw` (keyed in, typed, or E.164) is; None when calling it
    costs no more than an ordinary call, or when it is not a UK number at all."""
    if _DIRECTORY.fullmatch("".join(ch for ch in raw if ch.isdigit())):
        return Costly.DIRECTORY
    number = uk_number(raw)
    if number is None:
        return None
    national = number.removeprefix("+44")
    return next((kind for prefix, kind in _COSTLY_PREFIXES if national.startswith(prefix)), None)


def spoken_digits(number: str) -> str:
    """A number as it should be read back: national form, one digit at a time."""
    national = number
    if number.startswith("+44"):
        national = "0" + number[3:]
    return ", ".join(" ".join(group) for group in _groups(national))


def _groups(national: str) -> list[str]:
    if len(national) == 11:
        return [national[:5], national[5:8], national[8:]]
    return [national[i : i + 4] for i in range(0, len(national), 4)]


# A caller's number past its retention period becomes "pseud:" and 14 hex digits (56 bits of
# HMAC-SHA256): 20 characters, the width of every number column, and never read as a number.
PSEUDONYM_PREFIX = "pseud:"
PSEUDONYM_HEX = 14


def pseudonym(number: str, key: str) -> str:
    """The keyed pseudonym of a caller's number: the same number and key always give the same
    one, so a repeat caller's calls still join up; without the key it cannot be reversed."""
    digest = hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX]


def is_pseudonym(value: str | None) -> bool:
    """Whether a stored number has already been replaced by its pseudonym."""
    return value is not None and value.startswith(PSEUDONYM_PREFIX)
