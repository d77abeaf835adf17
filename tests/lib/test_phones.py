import pytest

from kapcare.lib.phones import format_phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+14165550123", "(416) 555-0123"),
        ("+33142685300", "+33 1 42 68 53 00"),
        ("", ""),
        ("not a number", "not a number"),
    ],
)
def test_phone_numbers_are_shown_the_canadian_way(stored: str, shown: str) -> None:
    assert format_phone(stored) == shown
