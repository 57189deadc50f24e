"""Telephone numbers: withheld placeholders and UK numbers keyed in or typed in a rota."""

import phonenumbers
import pytest

from helpline.phones import Costly, caller_number, extra_cost, is_withheld, spoken_digits, uk_number
from tests.constants import HEREFORD, PARENT


@pytest.mark.parametrize(
    "raw",
    [
        "+266696687",
        "+7378742833",
        "+86282452253",
        "+8656696",
        "+2562533",
        "anonymous",
        "Anonymous",
        "Restricted",
        "unknown",
        "private",
        "",
        "  ",
    ],
)
def test_withheld_placeholders_are_never_a_caller_identity(raw: str) -> None:
    assert is_withheld(raw)
    assert caller_number(raw) is None


def test_real_callers_are_kept_in_e164() -> None:
    assert caller_number(PARENT) == PARENT
    assert caller_number("+14155550100") == "+14155550100"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", PARENT),
        ("01632 960001", HEREFORD),
        ("+44 20 7946 0000", "+442079460000"),
        ("0113 496 0000", "+441134960000"),
        ("447700900123", PARENT),
    ],
)
def test_uk_numbers_including_ofcom_drama_ranges_are_accepted(raw: str, expected: str) -> None:
    assert uk_number(raw) == expected


@pytest.mark.parametrize("raw", ["07700 90", "4322", "+14155550100", "hello", "", "0"])
def test_numbers_nobody_could_be_called_back_on_are_refused(raw: str) -> None:
    assert uk_number(raw) is None


def test_read_back_is_digit_by_digit_in_national_form() -> None:
    assert spoken_digits(PARENT) == "0 7 7 0 0, 9 0 0, 1 2 3"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("0909 879 0000", Costly.PREMIUM_RATE),
        ("09118790000", Costly.PREMIUM_RATE),
        ("+44 909 879 0000", Costly.PREMIUM_RATE),
        ("0871 234 5678", Costly.SERVICE),
        ("0872 234 5678", Costly.SERVICE),
        ("0873 234 5678", Costly.SERVICE),
        ("070 1234 5678", Costly.PERSONAL),
        ("07000 123456", Costly.PERSONAL),
        ("118 118", Costly.DIRECTORY),
        ("118500", Costly.DIRECTORY),
    ],
)
def test_numbers_costing_more_than_an_ordinary_call_are_named(raw: str, kind: Costly) -> None:
    assert extra_cost(raw) == kind


@pytest.mark.parametrize(
    "raw",
    [
        "07700 900123",  # Ofcom's drama ranges, which tests and demos use
        "01632 960001",
        "0118 496 0000",  # Reading: a geographic number, not a 118 service
        "0800 123 4567",
        "0300 123 4567",
        "07400 123456",  # a mobile
        "0870 234 5678",  # not in the rule's list
        "999",
        "",
        "hello",
    ],
)
def test_ordinary_and_unusable_numbers_are_not_called_costly(raw: str) -> None:
    assert extra_cost(raw) is None


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("0909 879 0000", phonenumbers.PhoneNumberType.PREMIUM_RATE),
        ("0871 234 5678", phonenumbers.PhoneNumberType.PREMIUM_RATE),
        ("070 1234 5678", phonenumbers.PhoneNumberType.PERSONAL_NUMBER),
    ],
)
def test_the_prefixes_agree_with_phonenumbers_where_it_knows_the_type(raw: str, kind: int) -> None:
    assert phonenumbers.number_type(phonenumbers.parse(raw, "GB")) == kind
    assert extra_cost(raw) is not None
