from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.lib.canada import clean_canadian_phone
from kapcare.safety.models import SAFETY_PLAN_SECTIONS, OnCallShift, SafetyAlert


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


class PhysicianChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class OnCallShiftForm(forms.ModelForm[OnCallShift]):
    """A shift on the rota, entered in the clinic's time zone."""

    physician = PhysicianChoiceField(queryset=User.objects.none())

    class Meta:
        model = OnCallShift
        fields = ["physician", "starts_at", "ends_at", "page_phone"]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        labels = {"starts_at": "Starts", "ends_at": "Ends"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["physician"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        field.queryset = User.objects.filter(
            is_active=True, groups__name=Role.PHYSICIAN.value
        ).order_by("full_name")

    def clean_page_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("page_phone") or ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", "The shift must end after it starts.")
            elif ends - starts > timedelta(days=14):
                self.add_error("ends_at", "Enter shifts of at most 14 days.")
            elif ends <= timezone.now():
                self.add_error("ends_at", "This shift is already over.")
        return cleaned


class CaseloadFilterForm(forms.Form):
    scope = forms.ChoiceField(
        label="Patients",
        choices=[("mine", "My patients"), ("all", "All patients")],
        required=False,
    )
    phase = forms.ChoiceField(
        label="Phase",
        choices=[
            ("", "Active and maintenance"),
            ("active", "Active treatment"),
            ("maintenance", "Maintenance"),
        ],
        required=False,
    )
    flag = forms.ChoiceField(
        label="Show",
        choices=[("", "Everyone"), ("alerts", "Only with open alerts")],
        required=False,
    )
    q = forms.CharField(label="Name or MRN", required=False, max_length=100)
    sort = forms.ChoiceField(label="Sort by", choices=[], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from kapcare.safety.caseload import SORTS

        super().__init__(*args, **kwargs)
        field = self.fields["sort"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - type narrowing
        field.choices = list(SORTS.items())

    def value(self, name: str, default: str) -> str:
        if not self.is_valid():
            return default
        return str(self.cleaned_data.get(name) or default)


class SafetyPlanForm(forms.Form):
    """The Stanley-Brown steps, each free text; at least one step must be filled."""

    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    written_with_patient = forms.BooleanField(
        label="Written together with the patient", required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, heading, hint in SAFETY_PLAN_SECTIONS:
            self.fields[name] = forms.CharField(
                label=heading,
                help_text=hint,
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(
            str(cleaned.get(name, "")).strip() for name, _, _ in SAFETY_PLAN_SECTIONS
        ):
            raise forms.ValidationError("Write at least one step of the plan.")
        return cleaned

    def section_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _, _ in SAFETY_PLAN_SECTIONS]
