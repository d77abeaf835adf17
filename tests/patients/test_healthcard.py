import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.patients.healthcard import (
    HealthCardError,
    check_health_number,
    check_version_code,
    luhn_check_digit,
    luhn_is_valid,
)

VALID = "9876543217"


def test_the_example_number_is_luhn_valid() -> None:
    assert luhn_is_valid(VALID)


def test_it_accepts_a_valid_number_with_spaces_and_dashes() -> None:
    assert check_health_number("9876-543 217") == VALID


def test_it_rejects_a_wrong_check_digit() -> None:
    with pytest.raises(HealthCardError, match="check digit"):
        check_health_number("9876543210")


@pytest.mark.parametrize("raw", ["987654321", "98765432170"])
def test_it_rejects_the_wrong_length(raw: str) -> None:
    with pytest.raises(HealthCardError, match="10 digits"):
        check_health_number(raw)


@pytest.mark.parametrize("raw", ["98765432AB", "abcdefghij", "98765४3217"])
def test_it_rejects_letters(raw: str) -> None:
    with pytest.raises(HealthCardError, match="digits only"):
        check_health_number(raw)


@pytest.mark.parametrize(("raw", "expected"), [("", ""), ("ab", "AB"), (" k ", "K")])
def test_version_codes(raw: str, expected: str) -> None:
    assert check_version_code(raw) == expected


@pytest.mark.parametrize("raw", ["ABC", "1A", "A-"])
def test_it_rejects_bad_version_codes(raw: str) -> None:
    with pytest.raises(HealthCardError):
        check_version_code(raw)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_the_computed_check_digit_always_validates(prefix: str) -> None:
    number = prefix + luhn_check_digit(prefix)
    assert check_health_number(number) == number


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_any_other_check_digit_fails(prefix: str, offset: int) -> None:
    right = int(luhn_check_digit(prefix))
    wrong = str((right + offset) % 10)
    assert not luhn_is_valid(prefix + wrong)


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.integers(0, 9),
    st.integers(1, 9),
)
def test_a_single_mistyped_digit_is_always_caught(
    prefix: str, position: int, delta: int
) -> None:
    number = prefix + luhn_check_digit(prefix)
    typo = (
        number[:position]
        + str((int(number[position]) + delta) % 10)
        + number[position + 1 :]
    )
    assert not luhn_is_valid(typo)
