"""Weekly totals and the current streak of a patient's mindfulness practice.

Plain counting, no clinical rule: weeks start on Monday (ISO 8601, as Canadian
calendars commonly show); a streak is the run of consecutive days with practice that
ends today, or yesterday when today has none yet.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Week:
    starts_on: date
    minutes: int
    sessions: int


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_totals(
    practices: Iterable[tuple[date, int]], *, today: date, weeks: int = 8
) -> list[Week]:
    """The last `weeks` weeks (this one last), each with minutes and sessions."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    minutes: dict[date, int] = {}
    sessions: dict[date, int] = {}
    for day, length in practices:
        start = week_start(day)
        if start < first or day > today:
            continue
        minutes[start] = minutes.get(start, 0) + length
        sessions[start] = sessions.get(start, 0) + 1
    return [
        Week(start, minutes.get(start, 0), sessions.get(start, 0))
        for start in (first + timedelta(weeks=n) for n in range(weeks))
    ]


def streak(days: Iterable[date], *, today: date) -> int:
    """Consecutive days with practice, ending today (or yesterday)."""
    practised = {d for d in days if d <= today}
    day = today if today in practised else today - timedelta(days=1)
    count = 0
    while day in practised:
        count += 1
        day -= timedelta(days=1)
    return count
