"""Canadian provinces, phone numbers and postal codes, as forms need them."""

import re

import phonenumbers
from django import forms
from django.db import models

# Canada Post addressing guidelines: the letters D, F, I, O, Q and U never appear,
# and W and Z never start a postal code.
_POSTAL_CODE = re.compile(
    r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$"
)


class Province(models.TextChoices):
    AB = "AB", "Alberta"
    BC = "BC", "British Columbia"
    MB = "MB", "Manitoba"
    NB = "NB", "New Brunswick"
    NL = "NL", "Newfoundland and Labrador"
    NS = "NS", "Nova Scotia"
    NT = "NT", "Northwest Territories"
    NU = "NU", "Nunavut"
    ON = "ON", "Ontario"
    PE = "PE", "Prince Edward Island"
    QC = "QC", "Quebec"
    SK = "SK", "Saskatchewan"
    YT = "YT", "Yukon"


def clean_postal_code(raw: str) -> str:
    """Return "A1A 1A1", or raise a message people understand."""
    code = raw.strip().upper()
    if not code:
        return ""
    if not _POSTAL_CODE.match(code):
        raise forms.ValidationError("Enter a Canadian postal code such as M5V 2T6.")
    return f"{code[:3]} {code[-3:]}"


def clean_canadian_phone(raw: str) -> str:
    """Return +1 E.164 form, or raise a message people understand."""
    if not raw.strip():
        return ""
    try:
        number = phonenumbers.parse(raw, "CA")
    except phonenumbers.NumberParseException as exc:
        raise forms.ValidationError(
            "Enter a phone number such as 416-555-0123."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            "That is not a valid phone number; check the area code and digits."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
