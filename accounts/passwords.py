"""Passwords: argon2id hashes (memory-hard), and the rule on their length."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Checked against when no account matches, so that an unknown email takes as long as a
# known one and the time of an answer does not say which emails have accounts. The hash of a
# random password nobody kept, with the hasher's parameters: hashing one as each process
# starts took a tenth of a second and 64 MiB at once, in every web worker, clock and command.
# Made afresh if the library's parameters change, so that checking it still costs what
# checking a real one does (and a test then says to write the new one here).
STAND_IN = (
    "$argon2id$v=19$m=65536,t=3,p=4$6U/G6RDnkm9m80ShNvOgPg"
    "$RbunhsSKYZSnnNF1w2cfIKmENeNLLvoTXyk6pGt9bug"
)
_UNKNOWN = (
    _hasher.hash(secrets.token_urlsafe(24)) if _hasher.check_needs_rehash(STAND_IN) else STAND_IN
)


class WeakPassword(ValueError):
    """A password the service will not keep; the message says why."""


def check_strength(password: str) -> None:
    """Refuse a password shorter than MIN_LENGTH characters."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_LENGTH} characters.")


def hash_password(password: str) -> str:
    """The argon2id hash to keep for a password strong enough to keep."""
    check_strength(password)
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(stored or _UNKNOWN, password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)
