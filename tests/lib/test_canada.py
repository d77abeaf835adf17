import pytest
from django import forms

from kapcare.lib.canada import clean_canadian_phone, clean_postal_code


@pytest.mark.parametrize(
    ("raw", "clean"), [("m5v2t6", "M5V 2T6"), (" K1P 5J2 ", "K1P 5J2"), ("", "")]
)
def test_postal_codes_are_tidied(raw: str, clean: str) -> None:
    assert clean_postal_code(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "D5V 2T6", "W5V 2T6", "M5V 2T", "M5V-2T6X"])
def test_impossible_postal_codes_are_refused(raw: str) -> None:
    with pytest.raises(forms.ValidationError):
        clean_postal_code(raw)


@pytest.mark.parametrize(
    "raw", ["416-555-0123", "(416) 555 0123", "+1 416 555 0123", "4165550123"]
)
def test_phone_numbers_in_any_usual_form(raw: str) -> None:
    assert clean_canadian_phone(raw) == "+14165550123"


@pytest.mark.parametrize("raw", ["12", "555-0123", "call me"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(forms.ValidationError):
        clean_canadian_phone(raw)
