from django import forms

from kapcare.safety.models import SafetyAlert


class AcknowledgeForm(forms.Form):
    action = forms.ChoiceField(
        label="What did you do?", choices=[("", "Choose…"), *SafetyAlert.Action.choices]
    )
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("action") == SafetyAlert.Action.OTHER
            and not str(cleaned.get("note", "")).strip()
        ):
            self.add_error("note", "Describe the action you took.")
        return cleaned


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[("", "Choose…"), *SafetyAlert.Resolution.choices]
    )
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("resolution") == SafetyAlert.Resolution.RAISED_IN_ERROR
            and not str(cleaned.get("note", "")).strip()
        ):
            self.add_error("note", "Say why the alert was raised in error.")
        return cleaned


class RiskFlagForm(forms.Form):
    submission_key = forms.CharField(max_length=64)
    level = forms.ChoiceField(
        choices=SafetyAlert.Level.choices, initial=SafetyAlert.Level.HIGH
    )
    reason = forms.CharField(
        max_length=250, help_text="What you observed, in a sentence."
    )
