from django import forms


class AuditSearchForm(forms.Form):
    patient = forms.CharField(
        required=False, max_length=100, help_text="MRN, health number or name."
    )
    user = forms.CharField(required=False, max_length=254, label="Staff or user email")
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        from kapcare.audit.models import AuditEvent

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["action"].choices = [("", "Any action"), *AuditEvent.Action.choices]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:  # type: ignore[operator]
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
