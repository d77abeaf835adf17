from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.lib.canada import clean_canadian_phone, clean_postal_code
from kapcare.lib.phones import format_phone
from kapcare.patients.healthcard import (
    HealthCardError,
    check_health_number,
    check_version_code,
)
from kapcare.patients.models import Patient
from kapcare.patients.services import EDITABLE_FIELDS


class PatientForm(forms.ModelForm[Patient]):
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    # Wider than the stored values: people type "1234 567 890" and "ab "; clean_* normalise.
    health_number = forms.CharField(
        label="Ontario health number", max_length=20, required=False
    )
    health_version_code = forms.CharField(
        label="Version code", max_length=10, required=False
    )
    postal_code = forms.CharField(max_length=10, required=False)

    class Meta:
        model = Patient
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "born_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "referring_clinician": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by(
            "full_name"
        )
        physician = self.fields["responsible_physician"]
        therapist = self.fields["responsible_therapist"]
        assert isinstance(physician, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        assert isinstance(therapist, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        physician.queryset = staff.filter(groups__name=Role.PHYSICIAN)
        therapist.queryset = staff.filter(groups__name=Role.THERAPIST)
        self.fields["health_number"].help_text = "10 digits, as on the card."
        self.fields["postal_code"].help_text = "For example M5V 2T6."
        for name in ("phone", "emergency_contact_phone"):
            self.fields[name].widget.attrs.update(
                {"type": "tel", "autocomplete": "tel"}
            )
        for name in ("phone", "emergency_contact_phone"):
            if value := getattr(self.instance, name):
                self.initial[name] = format_phone(value)
        if not self.instance._state.adding:
            self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()
            self.fields["loaded_at"].required = True
            self.fields["loaded_at"].error_messages["required"] = (
                "This form is out of date. Open the chart again before editing."
            )

    def clean_born_on(self) -> date:
        born_on: date = self.cleaned_data["born_on"]
        today = timezone.localdate()
        if born_on > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if today.year - born_on.year > 120:
            raise forms.ValidationError(
                "Check the year: that would make the patient over 120."
            )
        return born_on

    def clean_health_number(self) -> str:
        raw = str(self.cleaned_data.get("health_number", ""))
        if not raw.strip():
            return ""
        try:
            return check_health_number(raw)
        except HealthCardError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_health_version_code(self) -> str:
        try:
            return check_version_code(
                str(self.cleaned_data.get("health_version_code", ""))
            )
        except HealthCardError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("phone", "")))

    def clean_emergency_contact_phone(self) -> str:
        return clean_canadian_phone(
            str(self.cleaned_data.get("emergency_contact_phone", ""))
        )

    def clean_postal_code(self) -> str:
        return clean_postal_code(str(self.cleaned_data.get("postal_code", "")))

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email", "")).lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        number_missing = (
            not cleaned.get("health_number") and "health_number" not in self.errors
        )
        if cleaned.get("health_version_code") and number_missing:
            self.add_error(
                "health_version_code",
                "Enter the health number too, or leave the version code empty.",
            )
        return cleaned

    def model_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class InvitationAcceptForm(forms.Form):
    born_on = forms.DateField(
        label="Your date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        help_text="To confirm the invitation is yours.",
    )
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type it again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                validate_password(first, User(email=self.email))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
