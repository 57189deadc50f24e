"""Turning the simulator's command-line words (adviser names, office keys) into numbers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from helpline.phones import to_e164
from helpline.settings import Settings
from rota.service import UnknownAdviser, find_adviser


def adviser_phone(session: Session, who: str) -> str:
    """An adviser's phone from their name, or the number itself."""
    if any(ch.isdigit() for ch in who) and not any(ch.isalpha() for ch in who):
        number = to_e164(who)
        if number:
            return number
    try:
        return find_adviser(session, who).phone
    except UnknownAdviser as exc:
        raise SystemExit(f"simulate: {exc}") from None


def resolve_advisers(session: Session, **groups: tuple[str, ...]) -> dict[str, str]:
    """Map each named adviser's phone to what their phone does in the simulated call."""
    behaviours = {
        "accept": "accept",
        "decline": "decline",
        "voicemail": "voicemail",
        "busy": "busy",
    }
    result: dict[str, str] = {}
    for group, names in groups.items():
        for name in names:
            result[adviser_phone(session, name)] = behaviours[group]
    return result


def resolve_to(settings: Settings, to: str | None) -> str:
    """The number dialled: an office key means that office's first number."""
    if to is None:
        return settings.first_office.numbers[0] if settings.first_office.numbers else ""
    office = settings.offices.get(to.lower())
    if office is not None:
        if not office.numbers:
            raise SystemExit(f"simulate: office '{to}' has no numbers configured")
        return office.numbers[0]
    number = to_e164(to)
    if number is None:
        known = ", ".join(settings.offices)
        raise SystemExit(f"simulate: no office '{to}' (known offices: {known}) and not a number")
    return number
