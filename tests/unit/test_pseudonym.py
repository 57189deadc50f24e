"""Callers' pseudonyms: keyed, stable, and never mistaken for a number."""

from __future__ import annotations

from helpline.phones import caller_number, is_pseudonym, pseudonym, uk_number
from tests.constants import OTHER_PARENT, PARENT, PSEUDONYM_KEY


def test_the_same_number_and_key_always_give_the_same_pseudonym() -> None:
    assert pseudonym(PARENT, PSEUDONYM_KEY) == pseudonym(PARENT, PSEUDONYM_KEY)
    assert pseudonym(PARENT, PSEUDONYM_KEY) != pseudonym(OTHER_PARENT, PSEUDONYM_KEY)


def test_another_key_gives_another_pseudonym() -> None:
    assert pseudonym(PARENT, PSEUDONYM_KEY) != pseudonym(PARENT, PSEUDONYM_KEY + "x")


def test_a_pseudonym_fits_a_number_column_and_is_never_read_as_a_number() -> None:
    value = pseudonym(PARENT, PSEUDONYM_KEY)
    assert value.startswith("pseud:") and len(value) == 20  # String(20)
    assert PARENT[1:] not in value
    assert is_pseudonym(value) and not is_pseudonym(PARENT) and not is_pseudonym(None)
    assert caller_number(value) is None and uk_number(value) is None
