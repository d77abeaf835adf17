"""Canadian phone number display (pure helper)."""

import phonenumbers


def format_phone(value: str) -> str:
    """Show +14165550123 as (416) 555-0123, and other countries in international form."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "CA")
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
