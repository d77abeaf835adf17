"""Ontario health number checks (pure Python).

An Ontario health number has 10 digits; the last is a check digit computed with
the Luhn (modulus 10) formula over the number, as in the Ontario Ministry of
Health's health card validation specification (described in "Modulus10 Number
Check Function for Validating Health Card Numbers", worldoscar.org, 2023; Luhn's
formula is ISO/IEC 7812-1). The version code is zero, one or two letters.
"""

import re
from dataclasses import dataclass

_VERSION_CODE = re.compile(r"^[A-Z]{0,2}$")


class HealthCardError(ValueError):
    pass


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_health_number(raw: str) -> str:
    """Strip the spaces and dashes people type ("1234-567-890")."""
    return re.sub(r"[\s-]", "", raw)


def check_health_number(raw: str) -> str:
    """Return the 10-digit number, or raise HealthCardError saying what is wrong."""
    number = normalise_health_number(raw)
    if not number.isascii() or not number.isdigit():
        raise HealthCardError("An Ontario health number has digits only (no letters).")
    if len(number) != 10:
        raise HealthCardError(
            f"An Ontario health number has 10 digits; this one has {len(number)}."
        )
    if not luhn_is_valid(number):
        raise HealthCardError(
            "This health number's check digit (the last digit) is wrong; please re-check it."
        )
    return number


def check_version_code(raw: str) -> str:
    code = raw.strip().upper()
    if not _VERSION_CODE.match(code):
        raise HealthCardError("The version code is up to two letters, for example AB.")
    return code


@dataclass(frozen=True)
class HealthCard:
    number: str
    version_code: str

    @property
    def formatted(self) -> str:
        spaced = f"{self.number[:4]} {self.number[4:7]} {self.number[7:]}"
        return f"{spaced} {self.version_code}".strip()


def luhn_check_digit(first_nine: str) -> str:
    """The check digit that completes a 9-digit prefix (used for synthetic demo numbers)."""
    for digit in "0123456789":
        if luhn_is_valid(first_nine + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")
