"""When assigned questionnaires fall due: calendar arithmetic, checked by hand and by property."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.schedules import (
    Repeat,
    Schedule,
    add_months,
    describe,
    latest_due,
    next_due,
)

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("today", "due"),
    [("2026-11-26", None), ("2026-11-27", "2026-11-27"), ("2027-05-01", "2026-11-27")],
)
def test_once_is_due_on_its_day_and_stays_the_only_occurrence(
    today: str, due: str | None
) -> None:
    schedule = Schedule(Repeat.ONCE, D("2026-11-27"))
    assert latest_due(schedule, D(today)) == (D(due) if due else None)
    assert next_due(schedule, D("2026-11-27")) is None


@pytest.mark.parametrize(
    ("today", "due", "following"),
    [
        ("2026-11-27", "2026-11-27", "2026-12-04"),
        ("2026-12-03", "2026-11-27", "2026-12-04"),
        ("2026-12-04", "2026-12-04", "2026-12-11"),
    ],
)
def test_weekly(today: str, due: str, following: str) -> None:
    schedule = Schedule(Repeat.WEEKLY, D("2026-11-27"))
    assert latest_due(schedule, D(today)) == D(due)
    assert next_due(schedule, D(today)) == D(following)


def test_every_three_weeks() -> None:
    schedule = Schedule(Repeat.EVERY_N_WEEKS, D("2026-01-01"), interval_weeks=3)
    assert latest_due(schedule, D("2026-01-21")) == D("2026-01-01")
    assert latest_due(schedule, D("2026-01-22")) == D("2026-01-22")
    assert next_due(schedule, D("2026-01-22")) == D("2026-02-12")


def test_monthly_keeps_the_31st_and_uses_the_last_day_of_short_months() -> None:
    schedule = Schedule(Repeat.MONTHLY, D("2026-01-31"))
    assert latest_due(schedule, D("2026-02-27")) == D("2026-01-31")
    assert latest_due(schedule, D("2026-02-28")) == D("2026-02-28")
    assert next_due(schedule, D("2026-02-28")) == D("2026-03-31")
    assert latest_due(schedule, D("2026-03-30")) == D("2026-02-28")
    assert add_months(D("2027-12-15"), 1) == D("2028-01-15")
    assert add_months(D("2028-01-31"), 1) == D("2028-02-29")


def test_nothing_falls_due_after_the_end_date() -> None:
    schedule = Schedule(Repeat.WEEKLY, D("2026-11-27"), ends_on=D("2026-12-10"))
    assert latest_due(schedule, D("2027-01-01")) == D("2026-12-04")
    assert next_due(schedule, D("2026-12-04")) is None


def test_treatment_events_are_not_calendar_dates() -> None:
    schedule = Schedule(Repeat.BEFORE_DOSING, D("2026-11-27"))
    assert latest_due(schedule, D("2026-12-27")) is None
    assert next_due(schedule, D("2026-12-27")) is None
    assert describe(schedule) == "Before each dosing session from 2026-11-27"


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="from 1 to 52"):
        Schedule(Repeat.EVERY_N_WEEKS, D("2026-11-27"), interval_weeks=0)
    with pytest.raises(ValueError, match="before the start"):
        Schedule(Repeat.WEEKLY, D("2026-11-27"), ends_on=D("2026-11-26"))


def test_descriptions_say_when_in_plain_words() -> None:
    assert (
        describe(Schedule(Repeat.EVERY_N_WEEKS, D("2026-11-27"), interval_weeks=2))
        == "Every 2 weeks from 2026-11-27"
    )
    assert (
        describe(Schedule(Repeat.MONTHLY, D("2026-11-27"), ends_on=D("2027-11-27")))
        == "Monthly from 2026-11-27 until 2027-11-27"
    )


schedules = st.builds(
    Schedule,
    st.sampled_from([Repeat.ONCE, Repeat.WEEKLY, Repeat.EVERY_N_WEEKS, Repeat.MONTHLY]),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    st.none(),
    st.integers(1, 52),
)


@given(schedules, st.dates(dt.date(2019, 1, 1), dt.date(2032, 12, 31)))
def test_latest_due_is_an_occurrence_between_start_and_today(
    schedule: Schedule, today: dt.date
) -> None:
    due = latest_due(schedule, today)
    if today < schedule.starts_on:
        assert due is None
        assert next_due(schedule, today) == schedule.starts_on
        return
    assert due is not None
    assert schedule.starts_on <= due <= today
    following = next_due(schedule, today)
    if following is not None:
        assert following > today
        # Nothing falls due between the latest occurrence and the next one.
        assert latest_due(schedule, following - dt.timedelta(days=1)) == due
        assert latest_due(schedule, following) == following
