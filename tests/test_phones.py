"""Telephone numbers: withheld placeholders and UK numbers keyed in or typed in a rota."""

import pytest

from helpline.phones import caller_number, is_withheld, spoken_digits, uk_number


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
    assert caller_number("+447700900123") == "+447700900123"
    assert caller_number("+14155550100") == "+14155550100"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("01632 960001", "+441632960001"),
        ("+44 20 7946 0000", "+442079460000"),
        ("0113 496 0000", "+441134960000"),
        ("447700900123", "+447700900123"),
    ],
)
def test_uk_numbers_including_ofcom_drama_ranges_are_accepted(raw: str, expected: str) -> None:
    assert uk_number(raw) == expected


@pytest.mark.parametrize("raw", ["07700 90", "4322", "+14155550100", "hello", "", "0"])
def test_numbers_nobody_could_be_called_back_on_are_refused(raw: str) -> None:
    assert uk_number(raw) is None


def test_read_back_is_digit_by_digit_in_national_form() -> None:
    assert spoken_digits("+447700900123") == "0 7 7 0 0, 9 0 0, 1 2 3"
