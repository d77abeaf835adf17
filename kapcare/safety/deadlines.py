"""When an unacknowledged safety alert escalates (pure Python, no Django imports).

The deadlines are clinic policy, not published rules: issue 4 sets the defaults
(1 hour for a high alert, 1 business day for a moderate one) and the clinic may
change them. Business days skip Saturdays, Sundays and the province's statutory
holidays (the `holidays` package's calendar for Ontario by default).

Stage 1 (the deadline) pages the on-call physician; stage 2, one more deadline
period later, goes to the clinic admins.
"""

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass

ON_CALL = "on_call"
ADMIN = "admin"


@dataclass(frozen=True)
class DeadlinePolicy:
    high_minutes: int = 60
    moderate_business_days: int = 1


def add_business_days(
    moment: dt.datetime, days: int, holidays: Container[dt.date]
) -> dt.datetime:
    """The same local clock time `days` business days later. A moment on a weekend or
    holiday counts from the start of the next business day."""
    day = moment.date()
    start = moment
    while day.weekday() >= 5 or day in holidays:
        day += dt.timedelta(days=1)
        start = moment.replace(
            year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0,
            microsecond=0,
        )  # fmt: skip
    added = 0
    while added < days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            added += 1
    return start.replace(year=day.year, month=day.month, day=day.day)


def escalation_times(
    level: str,
    raised_at: dt.datetime,
    policy: DeadlinePolicy,
    holidays: Container[dt.date],
) -> dict[str, dt.datetime]:
    """{stage: when it is due} for an alert raised at `raised_at` (clinic-local, aware)."""
    if level == "high":
        # Elapsed time, so in UTC: wall-clock arithmetic would be an hour off on
        # the nights the clocks change.
        period = dt.timedelta(minutes=policy.high_minutes)
        start = raised_at.astimezone(dt.UTC)
        zone = raised_at.tzinfo
        return {
            ON_CALL: (start + period).astimezone(zone),
            ADMIN: (start + 2 * period).astimezone(zone),
        }
    first = add_business_days(raised_at, policy.moderate_business_days, holidays)
    return {
        ON_CALL: first,
        ADMIN: add_business_days(first, policy.moderate_business_days, holidays),
    }
