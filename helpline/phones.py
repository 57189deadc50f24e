"""Telephone numbers: withheld-number placeholders, and UK numbers in E.164."""

from __future__ import annotations

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
