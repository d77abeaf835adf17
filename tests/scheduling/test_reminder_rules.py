"""The pure reminder rules: parsing the clinic's hours and which reminder is due."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.scheduling.reminders import parse_reminder_hours, reminder_due

START = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "hours"),
    [("48,24", (48, 24)), (" 24 ; 48 ", (48, 24)), ("2,2", (2,)), ("", ())],
)
def test_reminder_hours_are_read_largest_first(
    text: str, hours: tuple[int, ...]
) -> None:
    assert parse_reminder_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("48,x", "“x” is not a whole number of hours."),
        ("-3", "“-3” is not a whole number of hours."),
        ("0", "0 h is outside 1 to 336 hours (two weeks)."),
        ("337", "337 h is outside 1 to 336 hours (two weeks)."),
        ("1,2,3,4,5", "At most 4 reminders per appointment."),
    ],
)
def test_bad_reminder_hours_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_reminder_hours(text)


def due(
    now_hours_before: float, booked_hours_before: float, sent: set[int]
) -> int | None:
    return reminder_due(
        starts_at=START, booked_at=START - timedelta(hours=booked_hours_before),
        hours_before=(48, 24), now=START - timedelta(hours=now_hours_before),
        already_sent=sent,
    )  # fmt: skip


def test_each_reminder_in_its_turn() -> None:
    assert due(49, 100, set()) is None
    assert due(48, 100, set()) == 48
    assert due(30, 100, {48}) is None
    assert due(24, 100, {48}) == 24
    assert due(2, 100, {48, 24}) is None
    assert due(0, 100, set()) is None  # started


def test_a_late_booking_skips_reminders_whose_time_had_passed() -> None:
    assert due(40, 40, set()) is None
    assert due(24, 40, set()) == 24
    assert due(20, 10, set()) is None


@given(
    booked=st.floats(min_value=0, max_value=200),
    now=st.floats(min_value=-5, max_value=200),
    sent=st.sets(st.sampled_from([48, 24])),
)
def test_a_due_reminder_is_never_one_already_sent_or_from_before_booking(
    booked: float, now: float, sent: set[int]
) -> None:
    result = due(now, booked, sent)
    if result is not None:
        assert result not in sent
        assert result <= booked
        assert now <= result
        assert now > 0
        # the nearest reminder whose time has come, never a stale larger one
        assert not any(h < result and h >= now and h <= booked for h in (48, 24))
