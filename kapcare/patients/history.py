"""Turn chart change events into rows people can read."""

from collections.abc import Iterable
from dataclasses import dataclass

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient

_USER_FIELDS = {"responsible_physician", "responsible_therapist"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    changes: list[FieldChange]


def _display(field: str, value: str, users: dict[str, str]) -> str:
    if not value:
        return ""
    if field in _USER_FIELDS:
        return users.get(value, "a former staff member")
    model_field = Patient._meta.get_field(field)
    choices = dict(getattr(model_field, "choices", None) or [])
    return str(choices.get(value, value))


def history_entries(events: Iterable[AuditEvent]) -> list[HistoryEntry]:
    events = list(events)
    user_ids = {
        value
        for event in events
        for field, pair in event.detail.get("changes", {}).items()
        if field in _USER_FIELDS
        for value in pair
        if value
    }
    users = (
        {str(u.pk): u.display_name for u in User.objects.filter(pk__in=user_ids)}
        if user_ids
        else {}
    )
    entries = []
    for event in events:
        rows = [
            FieldChange(
                label=Patient.field_label(field),
                before=_display(field, before, users),
                after=_display(field, after, users),
            )
            for field, (before, after) in event.detail.get("changes", {}).items()
        ]
        entries.append(HistoryEntry(event, rows))
    return entries
