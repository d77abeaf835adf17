"""HTML input for booking and changing appointments."""

from datetime import UTC, date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.lib.edit_forms import SeenForm
from kapcare.patients.models import Patient
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    Resource,
    TimeOff,
    WorkingHours,
)

WEEKDAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


class ClinicianField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        roles = ", ".join(g.name for g in obj.groups.all())
        return f"{obj.display_name} ({roles})"


def clinical_staff() -> Any:
    return (
        User.objects.filter(
            is_active=True, groups__name__in=["Physician", "Nurse", "Therapist"]
        )
        .distinct()
        .prefetch_related("groups")
        .order_by("full_name")
    )


class WhenForm(forms.Form):
    on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        on, at = data.get("on"), data.get("at")
        if on is not None and not date(2000, 1, 1) <= on <= date(2100, 12, 31):
            self.add_error("on", "Choose a date between 2000 and 2100.")
        elif on is not None and at is not None:
            naive = datetime.combine(on, at)
            aware = timezone.make_aware(naive)
            if timezone.localtime(aware.astimezone(UTC)).replace(tzinfo=None) != naive:
                self.add_error(
                    "at", "That time does not exist on this day (clock change)."
                )
        return data

    def starts_at(self) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.cleaned_data["on"], self.cleaned_data["at"])
        )


class BookingForm(WhenForm):
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True), label="Appointment",
        empty_label="Choose…",
    )  # fmt: skip
    clinician = ClinicianField(queryset=User.objects.none(), empty_label="Choose…")
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.filter(is_active=True), required=False,
        label="Chair or room", empty_label="None",
    )  # fmt: skip
    is_virtual = forms.BooleanField(required=False, label="Virtual (video call)")
    notes = forms.CharField(required=False, max_length=300)
    notify = forms.BooleanField(
        required=False, initial=True, label="Send the patient a confirmation"
    )
    field_order = [
        "appointment_type", "clinician", "resource", "on", "at", "is_virtual", "notes",
        "notify",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinician = self.fields["clinician"]
        assert isinstance(clinician, ClinicianField)  # noqa: S101 - type narrowing
        clinician.queryset = clinical_staff()
        self.fields["at"].initial = time(9, 0)


class ConsultationBookingForm(BookingForm):
    """Booking from a consultation request; a new chart also needs the person's
    date of birth (if they did not give it) and sex at birth."""

    born_on = forms.DateField(
        label="Date of birth", required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    sex_at_birth = forms.ChoiceField(
        label="Sex at birth", required=False,
        choices=[("", "Choose…"), *Patient.SexAtBirth.choices],
    )  # fmt: skip

    def __init__(
        self, *args: Any, needs_chart: bool, has_birth_date: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.needs_chart = needs_chart
        if not needs_chart:
            del self.fields["born_on"], self.fields["sex_at_birth"]
        elif has_birth_date:
            del self.fields["born_on"]
        types = self.fields["appointment_type"]
        assert isinstance(types, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        types.queryset = AppointmentType.objects.filter(
            is_active=True,
            kind__in=[
                AppointmentType.Kind.CONSULTATION,
                AppointmentType.Kind.ASSESSMENT,
            ],
        )

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if self.needs_chart:
            if "born_on" in self.fields:
                born = data.get("born_on")
                if born is None:
                    self.add_error("born_on", "A chart needs the date of birth.")
                elif not date(1900, 1, 1) <= born <= timezone.localdate():
                    self.add_error("born_on", "Enter a date of birth in the past.")
            if not data.get("sex_at_birth"):
                self.add_error("sex_at_birth", "A chart needs the sex at birth.")
        return data


class MoveForm(WhenForm):
    notify = forms.BooleanField(
        required=False, initial=True, label="Tell the patient the new time"
    )


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Why is it cancelled?")
    notify = forms.BooleanField(
        required=False, initial=True, label="Tell the patient it is cancelled"
    )


class ContactPreferenceForm(SeenForm):
    # A stale form must not turn messages back on after the patient opted out.
    by_email = forms.BooleanField(required=False, label="By email")
    by_sms = forms.BooleanField(required=False, label="By text message")


class HoursForm(forms.ModelForm[WorkingHours]):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "starts", "ends"]
        widgets = {
            # a blank first choice: an untouched spare row sends no day, so it is
            # left out instead of failing as a Monday with no times
            "weekday": forms.Select(choices=[("", "Day…"), *enumerate(WEEKDAY_NAMES)]),
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise forms.ValidationError("The end is before the start.")
        return data


HoursFormSet = forms.inlineformset_factory(
    User, WorkingHours, form=HoursForm, extra=2, can_delete=True, fk_name="staff"
)


class TimeOffForm(forms.ModelForm[TimeOff]):
    class Meta:
        model = TimeOff
        fields = ["starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if (
            data.get("starts_at")
            and data.get("ends_at")
            and data["ends_at"] <= data["starts_at"]
        ):
            raise forms.ValidationError("The end is before the start.")
        return data


class ResourceForm(forms.ModelForm[Resource]):
    class Meta:
        model = Resource
        fields = ["name", "kind"]


def staff_with_role(role: str) -> Any:
    return (
        User.objects.filter(is_active=True, groups__name=role)
        .prefetch_related("groups")
        .order_by("full_name")
    )


class SeriesForm(forms.Form):
    first_day = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    sessions = forms.IntegerField(
        label="Dosing sessions", min_value=1, max_value=12, initial=6
    )
    per_week = forms.TypedChoiceField(
        label="Sessions a week", choices=[(3, "3 (Mon, Wed, Fri)"), (2, "2 (Tue, Thu)")],
        coerce=int, initial=3,
    )  # fmt: skip
    earliest = forms.TimeField(
        label="Earliest start",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        initial=time(9, 0),
    )
    nurse = ClinicianField(
        queryset=User.objects.none(), empty_label="Choose…", label="Dosing nurse"
    )
    therapist = ClinicianField(
        queryset=User.objects.none(), required=False, label="Integration therapist",
        empty_label="No integration sessions",
        help_text="An integration session the weekday after each dose.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nurse, therapist = self.fields["nurse"], self.fields["therapist"]
        assert isinstance(nurse, ClinicianField)  # noqa: S101 - type narrowing
        assert isinstance(therapist, ClinicianField)  # noqa: S101 - type narrowing
        nurse.queryset = staff_with_role("Nurse")
        therapist.queryset = staff_with_role("Therapist")

    def clean_first_day(self) -> date:
        day: date = self.cleaned_data["first_day"]
        if (
            not timezone.localdate()
            <= day
            <= timezone.localdate().replace(year=timezone.localdate().year + 2)
        ):
            raise forms.ValidationError("Choose a day from today, within two years.")
        return day


class PortalRequestForm(forms.Form):
    """What a patient may ask from the portal; the clinic books it."""

    kind = forms.ChoiceField(
        choices=[
            ("new", "A new appointment"),
            ("change", "Change an appointment"),
            ("cancel", "Cancel an appointment"),
        ],
        label="I would like",
    )
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True), required=False,
        label="Kind of appointment (for a new one)", empty_label="Choose…",
    )  # fmt: skip
    appointment = forms.ModelChoiceField(
        queryset=Appointment.objects.none(), required=False,
        label="Which appointment (to change or cancel)", empty_label="Choose…",
    )  # fmt: skip
    preferred = forms.CharField(
        max_length=200, required=False, label="When suits you",
        help_text="e.g. Tuesday or Thursday mornings",
    )  # fmt: skip
    message = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label="Anything else (please do not write about symptoms here)",
    )  # fmt: skip
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, upcoming: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        appointment = self.fields["appointment"]
        assert isinstance(appointment, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        appointment.queryset = upcoming

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("kind") == "new" and not data.get("appointment_type"):
            self.add_error("appointment_type", "Choose the kind of appointment.")
        if data.get("kind") in ("change", "cancel") and not data.get("appointment"):
            self.add_error("appointment", "Choose the appointment.")
        return data


class AnswerForm(forms.Form):
    status = forms.ChoiceField(choices=[("done", "Done"), ("declined", "Declined")])
    answer = forms.CharField(
        max_length=300, required=False, label="Word for the patient"
    )
