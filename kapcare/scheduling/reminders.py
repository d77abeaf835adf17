"""When appointment reminders are due (pure Python, no Django).

The clinic chooses the hours before an appointment at which patients are reminded
(e.g. 48 and 24). No clinical source sets these; they are the clinic's setting.
"""

from collections.abc import Collection
from datetime import datetime, timedelta

MAX_REMINDERS = 4
MAX_HOURS_BEFORE = 14 * 24


def parse_reminder_hours(text: str) -> tuple[int, ...]:
    """ "48, 24" -> (48, 24): whole hours, largest first, no repeats.

    Raises ValueError with a message for the clinic's settings form."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    hours = set()
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"“{part}” is not a whole number of hours.")
        value = int(part)
        if not 1 <= value <= MAX_HOURS_BEFORE:
            raise ValueError(
                f"{value} h is outside 1 to {MAX_HOURS_BEFORE} hours (two weeks)."
            )
        hours.add(value)
    if len(hours) > MAX_REMINDERS:
        raise ValueError(f"At most {MAX_REMINDERS} reminders per appointment.")
    return tuple(sorted(hours, reverse=True))


def reminder_due(
    *,
    starts_at: datetime,
    booked_at: datetime,
    hours_before: Collection[int],
    now: datetime,
    already_sent: Collection[int],
) -> int | None:
    """The reminder (hours before) to send now, or None.

    A reminder counts only if its time falls after the appointment was booked or
    last moved (an appointment booked for tomorrow morning has its confirmation,
    not a "48 hours to go" reminder). Of those whose time has come, only the
    nearest to the appointment is sent: after a worker outage the patient gets one
    current reminder, not a burst of stale ones."""
    if now >= starts_at:
        return None
    due = [
        h for h in hours_before if booked_at <= starts_at - timedelta(hours=h) <= now
    ]
    if not due:
        return None
    nearest = min(due)
    return None if nearest in already_sent else nearest
