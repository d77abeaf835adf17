import datetime as dt
from typing import Any

from django import forms

from kapcare.audit.models import AuditEvent


class AuditSearchForm(forms.Form):
    patient = forms.CharField(
        required=False, max_length=100, help_text="MRN, health number or name."
    )
    user = forms.CharField(required=False, max_length=254, label="Staff or user email")
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *AuditEvent.Action.choices]
    )
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: dt.date | None = cleaned.get("date_from")
        end: dt.date | None = cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
