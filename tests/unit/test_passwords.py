"""Passwords: an email no account has is checked as a real account's password would be."""

from __future__ import annotations

from argon2 import PasswordHasher

from accounts import passwords


def test_an_unknown_email_is_checked_against_a_hash_made_as_real_ones_are() -> None:
    # The stand-in hash has today's parameters, so its check takes as long as a real one's
    # and the time of an answer does not say whether an account exists.
    stand_in = passwords.STAND_IN  # as written in the code: not hashed afresh as it starts
    real = passwords.hash_password("a long enough password")
    assert not passwords.needs_rehash(stand_in)
    assert stand_in.split("$")[:4] == real.split("$")[:4]  # algorithm, version, parameters
    assert not PasswordHasher().check_needs_rehash(stand_in)
    assert passwords.verify(None, "a long enough password") is False
    assert passwords.verify("", "a long enough password") is False
    assert passwords.verify(real, "a long enough password") is True
