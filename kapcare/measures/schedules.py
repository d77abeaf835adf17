"""When an assigned questionnaire falls due (pure Python, no Django imports).

Calendar schedules (once, weekly, every N weeks, monthly) are computed here from
the start date. Schedules tied to treatment events (before each dosing session, at
the end of induction) fall due when the treatment record says so: the treatment
code calls `send_event_questionnaires` with the event's date.
"""

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Repeat(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    EVERY_N_WEEKS = "every_n_weeks"
    MONTHLY = "monthly"
    BEFORE_DOSING = "before_dosing"
    END_OF_INDUCTION = "end_of_induction"


CALENDAR_REPEATS = frozenset(
    {Repeat.ONCE, Repeat.WEEKLY, Repeat.EVERY_N_WEEKS, Repeat.MONTHLY}
)
EVENT_REPEATS = frozenset({Repeat.BEFORE_DOSING, Repeat.END_OF_INDUCTION})


@dataclass(frozen=True)
class Schedule:
    repeat: Repeat
    starts_on: dt.date
    ends_on: dt.date | None = None
    interval_weeks: int = 1

    def __post_init__(self) -> None:
        if self.repeat == Repeat.EVERY_N_WEEKS and not 1 <= self.interval_weeks <= 52:
            raise ValueError("Every N weeks needs N from 1 to 52.")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("The end date is before the start date.")


def add_months(day: dt.date, months: int, *, anchor_day: int | None = None) -> dt.date:
    """The same day of the month `months` later; the 31st becomes the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(anchor_day or day.day, last))


def _nth(schedule: Schedule, n: int) -> dt.date:
    start = schedule.starts_on
    if schedule.repeat == Repeat.WEEKLY:
        return start + dt.timedelta(weeks=n)
    if schedule.repeat == Repeat.EVERY_N_WEEKS:
        return start + dt.timedelta(weeks=n * schedule.interval_weeks)
    if schedule.repeat == Repeat.MONTHLY:
        return add_months(start, n, anchor_day=start.day)
    return start


def latest_due(schedule: Schedule, today: dt.date) -> dt.date | None:
    """The most recent occurrence on or before `today`, or None (not started, ended,
    or an event-driven schedule). Missed earlier occurrences are not sent late."""
    if schedule.repeat not in CALENDAR_REPEATS or today < schedule.starts_on:
        return None
    if schedule.repeat == Repeat.ONCE:
        due = schedule.starts_on
    elif schedule.repeat == Repeat.MONTHLY:
        start = schedule.starts_on
        n = (today.year - start.year) * 12 + today.month - start.month
        due = _nth(schedule, n)
        if due > today:
            due = _nth(schedule, n - 1)
    else:
        step = 7 * (
            schedule.interval_weeks if schedule.repeat == Repeat.EVERY_N_WEEKS else 1
        )
        due = _nth(schedule, 0) + dt.timedelta(
            days=(today - schedule.starts_on).days // step * step
        )
    if schedule.ends_on is not None and due > schedule.ends_on:
        return latest_due(schedule, schedule.ends_on)
    return due


def next_due(schedule: Schedule, after: dt.date) -> dt.date | None:
    """The first occurrence strictly after `after`, or None."""
    if schedule.repeat not in CALENDAR_REPEATS:
        return None
    if after < schedule.starts_on:
        candidate: dt.date | None = schedule.starts_on
    elif schedule.repeat == Repeat.ONCE:
        candidate = None
    else:
        n = 0
        candidate = schedule.starts_on
        # Jump close first, then step: at most a couple of iterations.
        latest = latest_due(schedule, after)
        if latest is not None:
            candidate = latest
            while candidate <= after:
                n += 1
                candidate = _step_from(schedule, latest, n)
    if (
        candidate is not None
        and schedule.ends_on is not None
        and candidate > schedule.ends_on
    ):
        return None
    return candidate


def _step_from(schedule: Schedule, latest: dt.date, n: int) -> dt.date:
    if schedule.repeat == Repeat.MONTHLY:
        return add_months(latest, n, anchor_day=schedule.starts_on.day)
    weeks = schedule.interval_weeks if schedule.repeat == Repeat.EVERY_N_WEEKS else 1
    return latest + dt.timedelta(weeks=weeks * n)


def describe(schedule: Schedule) -> str:
    """Plain words for the assignment list: "Every 2 weeks from 2026-11-27"."""
    start = schedule.starts_on.isoformat()
    until = f" until {schedule.ends_on.isoformat()}" if schedule.ends_on else ""
    match schedule.repeat:
        case Repeat.ONCE:
            return f"Once, on {start}"
        case Repeat.WEEKLY:
            return f"Weekly from {start}{until}"
        case Repeat.EVERY_N_WEEKS:
            return f"Every {schedule.interval_weeks} weeks from {start}{until}"
        case Repeat.MONTHLY:
            return f"Monthly from {start}{until}"
        case Repeat.BEFORE_DOSING:
            return f"Before each dosing session from {start}{until}"
        case Repeat.END_OF_INDUCTION:
            return "At the end of the induction series"
