"""Escalation deadlines: 1 hour for high, 1 business day for moderate (clinic policy)."""

import datetime as dt
import zoneinfo

import pytest

from kapcare.safety.deadlines import (
    ADMIN,
    ON_CALL,
    DeadlinePolicy,
    add_business_days,
    escalation_times,
)
from kapcare.safety.escalation import ClinicHolidays

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
ONTARIO = ClinicHolidays("ON")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TORONTO)


def test_a_high_alert_pages_on_call_after_an_hour_and_admins_after_two() -> None:
    times = escalation_times("high", at("2026-11-27 22:15"), DeadlinePolicy(), ONTARIO)
    assert times == {ON_CALL: at("2026-11-27 23:15"), ADMIN: at("2026-11-28 00:15")}


def test_the_clinic_can_shorten_the_high_deadline() -> None:
    times = escalation_times(
        "high", at("2026-11-27 10:00"), DeadlinePolicy(high_minutes=15), ONTARIO
    )
    assert times[ON_CALL] == at("2026-11-27 10:15")


@pytest.mark.parametrize(
    ("raised", "on_call", "admin"),
    [
        # Friday afternoon -> Monday afternoon -> Tuesday.
        ("2026-11-27 15:00", "2026-11-30 15:00", "2026-12-01 15:00"),
        # Saturday counts from Monday's start: due at the end of Monday.
        ("2026-11-28 10:00", "2026-12-01 00:00", "2026-12-02 00:00"),
        # Christmas Eve (Thu): Christmas (Fri), the weekend and Boxing Day observed
        # (Mon Dec 28) are skipped.
        ("2026-12-24 09:00", "2026-12-29 09:00", "2026-12-30 09:00"),
    ],
)
def test_a_moderate_alert_waits_one_business_day(
    raised: str, on_call: str, admin: str
) -> None:
    times = escalation_times("moderate", at(raised), DeadlinePolicy(), ONTARIO)
    assert times == {ON_CALL: at(on_call), ADMIN: at(admin)}


def test_business_days_keep_the_clock_time_across_a_dst_change() -> None:
    # Daylight time ends on Sunday 2026-11-01 in Toronto.
    moment = at("2026-10-30 16:00")
    later = add_business_days(moment, 1, ONTARIO)
    assert later == at("2026-11-02 16:00")
    assert later.utcoffset() == dt.timedelta(hours=-5)


def test_ontario_holidays_are_known() -> None:
    assert dt.date(2026, 2, 16) in ONTARIO  # Family Day
    assert dt.date(2026, 2, 17) not in ONTARIO
    assert "2026-02-16" not in ONTARIO


def test_a_high_deadline_is_elapsed_time_across_the_clock_change() -> None:
    # 01:30 EDT on 2026-11-01; clocks fall back at 02:00 to 01:00 EST.
    raised = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC).astimezone(TORONTO)
    times = escalation_times("high", raised, DeadlinePolicy(), ONTARIO)
    # Same-zone subtraction is wall-clock in Python, so compare in UTC.
    elapsed = times[ON_CALL].astimezone(dt.UTC) - raised.astimezone(dt.UTC)
    assert elapsed == dt.timedelta(hours=1)
    assert times[ON_CALL].fold == 1  # the second 01:30, after falling back
    assert times[ON_CALL].astimezone(dt.UTC) == dt.datetime(
        2026, 11, 1, 6, 30, tzinfo=dt.UTC
    )
