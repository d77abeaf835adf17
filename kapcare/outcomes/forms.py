"""The dashboard's period and filters (a GET form: the address can be bookmarked)."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.outcomes.services import AGE_BANDS, CohortFilters
from kapcare.patients.models import Patient
from kapcare.treatment.models import Route, TreatmentCourse

LONGEST_PERIOD_DAYS = 366 * 5
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)


def default_period() -> tuple[date, date]:
    """The last twelve months, to today."""
    today = timezone.localdate()
    return today - timedelta(days=364), today


class DateInput(forms.DateInput):
    input_type = "date"


def _choices(pairs: Any, everyone: str) -> list[tuple[str, str]]:
    return [("", everyone), *[(str(v), str(label)) for v, label in pairs]]


class DashboardForm(forms.Form):
    starts_on = forms.DateField(label="From", widget=DateInput)
    ends_on = forms.DateField(label="To", widget=DateInput)
    indication = forms.ChoiceField(
        required=False, choices=_choices(TreatmentCourse.Indication.choices, "All")
    )
    route = forms.ChoiceField(
        label="Protocol route", required=False, choices=_choices(Route.choices, "All")
    )
    phase = forms.ChoiceField(
        required=False, choices=_choices(TreatmentCourse.Phase.choices, "All")
    )
    clinician = forms.ModelChoiceField(
        label="Prescribing clinician", required=False, queryset=User.objects.none(),
        empty_label="All",
    )  # fmt: skip
    age_band = forms.ChoiceField(
        label="Age at the end of the period", required=False,
        choices=_choices(((band, band) for band in AGE_BANDS), "All"),
    )  # fmt: skip
    sex = forms.ChoiceField(
        label="Sex at birth", required=False,
        choices=_choices(Patient.SexAtBirth.choices, "All"),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinician = self.fields["clinician"]
        assert isinstance(clinician, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        clinician.queryset = (
            User.objects.filter(
                groups__permissions__codename="add_treatmentcourse",
                groups__permissions__content_type__app_label="treatment",
            )
            .distinct()
            .order_by("full_name")
        )
        clinician.label_from_instance = lambda user: user.display_name  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        for name, day in (("starts_on", starts), ("ends_on", ends)):
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(
                    name, f"Choose a date from {EARLIEST:%Y} to {LATEST:%Y}."
                )
                return data
        if starts and ends:
            if starts > ends:
                self.add_error("ends_on", "The period ends before it starts.")
            elif (ends - starts).days > LONGEST_PERIOD_DAYS:
                self.add_error("starts_on", "Choose a period of five years or less.")
        return data

    def filters(self) -> CohortFilters:
        data = self.cleaned_data
        clinician = data.get("clinician")
        return CohortFilters(
            starts_on=data["starts_on"], ends_on=data["ends_on"],
            indication=data.get("indication", ""), route=data.get("route", ""),
            phase=data.get("phase", ""),
            clinician_id=clinician.pk if clinician is not None else None,
            age_band=data.get("age_band", ""), sex=data.get("sex", ""),
        )  # fmt: skip


class ExportForm(DashboardForm):
    """The same period and filters, posted, and for the clinic admin the choice of
    identifiable rows with the reason."""

    identifiable = forms.BooleanField(
        label="Include MRN, name and date of birth", required=False
    )
    reason = forms.CharField(
        label="Why identifiable rows are needed", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip

    def __init__(self, *args: Any, may_identify: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in DashboardForm.base_fields:
            self.fields[name].widget = forms.HiddenInput()
        if not may_identify:
            del self.fields["identifiable"]
            del self.fields["reason"]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("identifiable") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason identifiable rows are needed.")
        return data


class ReportForm(forms.Form):
    """What the physician chooses and writes before the report leaves the clinic."""

    course = forms.ChoiceField(label="Course", required=False)
    plan = forms.CharField(
        label="Current plan", required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Printed on the report above your signature.",
    )  # fmt: skip
    referrer_email = forms.EmailField(
        label="Referrer's email (to send it)", required=False,
        help_text="Only needed to send the report by email.",
    )  # fmt: skip
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, courses: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        course = self.fields["course"]
        assert isinstance(course, forms.ChoiceField)  # noqa: S101 - type narrowing
        course.choices = [
            (
                str(c.pk),
                f"{c.protocol.name}, first dose {timezone.localdate(c.first_dose_at):%Y-%m-%d}",
            )
            for c in courses
        ]

    def check_for(self, action: str) -> bool:
        """Valid, and complete for `action` ("pdf" or "send")."""
        if not self.is_valid():
            return False
        if action in ("pdf", "send") and not self.cleaned_data["plan"].strip():
            self.add_error("plan", "Write the current plan before the report leaves.")
        if action == "send" and not self.cleaned_data["referrer_email"]:
            self.add_error("referrer_email", "Enter the referrer's email address.")
        return not self.errors
