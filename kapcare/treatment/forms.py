"""HTML input for courses, dosing sessions and the register.

Numeric bounds here are typing checks (a 3-digit weight typed as 7 kg), not clinical
thresholds; the clinical limits are on the protocol template."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.treatment.discharge import ALDRETE_ITEMS
from kapcare.treatment.infusion import PumpAction
from kapcare.treatment.models import (
    AdverseEvent,
    DosingSession,
    Drug,
    IntegrationSession,
    KetamineLot,
    MindfulnessPractice,
    Protocol,
    SessionNote,
    TreatmentCourse,
)


def clinicians_who_dose(exclude: User | None = None) -> QuerySet[User]:
    """Active nurses and physicians: who may witness a dose, a receipt or wastage."""
    users = User.objects.filter(
        is_active=True,
        groups__permissions__codename="add_dosingsession",
        groups__permissions__content_type__app_label="treatment",
    ).distinct()
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.order_by("full_name")


def at_time_today(value: time) -> datetime:
    """A clock time entered on the session page, as today in the clinic's time zone."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), value))


def latest_at_time(value: time) -> datetime:
    """A clock time entered after the fact: its latest occurrence that is not in the
    future, in the clinic's time zone, so 23:55 entered at 00:05 is last night. An
    hour repeated when clocks go back is read as its first occurrence."""
    now = timezone.localtime()
    today = timezone.make_aware(datetime.combine(now.date(), value))
    if today <= now + timedelta(minutes=1):
        return today
    return timezone.make_aware(datetime.combine(now.date() - timedelta(days=1), value))


class TimeInput(forms.TimeInput):
    input_type = "time"


def _now_time() -> time:
    return timezone.localtime().time().replace(second=0, microsecond=0)


class ClockTimeField(forms.TimeField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=TimeInput(format="%H:%M"), initial=_now_time, **kwargs)


class CourseForm(forms.ModelForm[TreatmentCourse]):
    class Meta:
        model = TreatmentCourse
        fields = [
            "protocol", "indication", "phase", "prescribed_dose", "planned_sessions",
            "starts_on", "notes",
        ]  # fmt: skip
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"})}
        help_texts = {
            "prescribed_dose": "In the protocol's unit: mg/kg for weight-based "
            "protocols, mg for fixed doses."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        protocol = self.fields["protocol"]
        assert isinstance(protocol, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        protocol.queryset = Protocol.objects.filter(is_active=True)
        self.fields["planned_sessions"].widget.attrs.update(min=1, max=60)

    def clean_planned_sessions(self) -> int:
        value: int = self.cleaned_data["planned_sessions"]
        if not 1 <= value <= 60:
            raise forms.ValidationError("Between 1 and 60 sessions.")
        return value


class CourseStatusForm(forms.Form):
    status = forms.ChoiceField(choices=TreatmentCourse.Status.choices)


class ChecklistForm(forms.ModelForm[DosingSession]):
    class Meta:
        model = DosingSession
        fields = [
            "identity_confirmed", "fasting_confirmed", "no_alcohol_confirmed",
            "escort_name", "escort_phone", "pregnancy_status",
            "has_medication_changes", "medication_changes",
            "predose_questionnaires_done",
        ]  # fmt: skip
        labels = {
            "identity_confirmed": "Identity confirmed (name and date of birth)",
            "fasting_confirmed": "Prepared as the protocol asks (fasting)",
            "no_alcohol_confirmed": "No alcohol today",
            "escort_name": "Who is taking the patient home",
            "escort_phone": "Their phone",
            "has_medication_changes": "Medication changed since the last session",
            "medication_changes": "What changed",
            "predose_questionnaires_done": "Questionnaires due before dosing are done",
        }
        widgets = {"medication_changes": forms.Textarea(attrs={"rows": 2})}


class VitalsForm(forms.Form):
    taken_time = ClockTimeField(
        label="Taken at", help_text="Change it when entering a reading late."
    )
    systolic = forms.IntegerField(
        label="Systolic (mmHg)", min_value=50, max_value=300, required=False
    )
    diastolic = forms.IntegerField(
        label="Diastolic (mmHg)", min_value=20, max_value=200, required=False
    )
    heart_rate = forms.IntegerField(
        label="Heart rate (/min)", min_value=20, max_value=250, required=False
    )
    spo2 = forms.IntegerField(
        label="SpO₂ (%)", min_value=50, max_value=100, required=False
    )
    respiratory_rate = forms.IntegerField(
        label="Respiratory rate (/min)", min_value=4, max_value=60, required=False
    )
    temperature_c = forms.DecimalField(
        label="Temperature (°C)", min_value=Decimal("30"), max_value=Decimal("43"),
        decimal_places=1, required=False,
    )  # fmt: skip
    sedation_score = forms.IntegerField(
        label="Sedation score", min_value=0, max_value=10, required=False,
        help_text="The clinic's own scale.",
    )  # fmt: skip

    VALUES = (
        "systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate",
        "temperature_c", "sedation_score",
    )  # fmt: skip

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if not any(data.get(k) is not None for k in self.VALUES):
            raise forms.ValidationError("Enter at least one reading.")
        if (data.get("systolic") is None) != (data.get("diastolic") is None):
            raise forms.ValidationError("Enter both systolic and diastolic pressure.")
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            raise forms.ValidationError("Diastolic must be below systolic.")
        return data

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.VALUES}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Physician's reason", widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )  # fmt: skip


class DoseForm(forms.Form):
    weight_kg = forms.DecimalField(
        label="Today's weight (kg)", min_value=Decimal("20"), max_value=Decimal("350"),
        decimal_places=1, required=False,
    )  # fmt: skip
    concentration_mg_per_ml = forms.DecimalField(
        label="Concentration (mg/mL)", min_value=Decimal("0.1"),
        max_value=Decimal("500"), decimal_places=2, required=False,
    )  # fmt: skip
    bag_volume_ml = forms.DecimalField(
        label="Bag volume (mL)", min_value=Decimal("1"), max_value=Decimal("1000"),
        decimal_places=1, required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, protocol: Protocol, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocol = protocol
        if protocol.is_per_kg:
            self.fields["weight_kg"].required = True
        if protocol.route == "iv":
            for name in ("concentration_mg_per_ml", "bag_volume_ml"):
                self.fields[name].required = True
        elif protocol.route == "nasal":
            for name in ("concentration_mg_per_ml", "bag_volume_ml"):
                del self.fields[name]
        else:
            self.fields["concentration_mg_per_ml"].required = True
            del self.fields["bag_volume_ml"]


class ClinicianChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.role_label})"


class LotChoiceField(forms.ModelChoiceField[KetamineLot]):
    def label_from_instance(self, obj: KetamineLot) -> str:
        return (
            f"{obj.lot_number}: {obj.product}, {obj.strength_mg_per_ml} mg/mL, "
            f"{obj.balance_mg} mg left, expires {obj.expires_on:%Y-%m-%d}"
        )


class WitnessForm(forms.Form):
    witness = ClinicianChoiceField(
        queryset=User.objects.none(), label="Second clinician", empty_label="Choose…"
    )
    witness_password = forms.CharField(
        label="Their password",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        witness = self.fields["witness"]
        assert isinstance(witness, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        witness.queryset = clinicians_who_dose(exclude=user)


def usable_lots(drug: str) -> QuerySet[KetamineLot]:
    return KetamineLot.objects.filter(
        drug=drug, balance_mg__gt=0, expires_on__gte=timezone.localdate()
    )


class StartDoseForm(forms.Form):
    lot = LotChoiceField(
        queryset=KetamineLot.objects.none(), label="Drawn from lot",
        empty_label="Choose…",
    )  # fmt: skip

    def __init__(self, *args: Any, drug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lot = self.fields["lot"]
        assert isinstance(lot, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        lot.queryset = usable_lots(drug)


class PumpForm(forms.Form):
    """Pause, restart, re-rate or stop the infusion; the fields each action needs."""

    rate_ml_per_h = forms.DecimalField(
        label="New pump rate (mL/h)", min_value=Decimal("0.1"),
        max_value=Decimal("9999.9"), decimal_places=1,
    )  # fmt: skip
    happened_time = forms.TimeField(
        label="Time, if not now", required=False, widget=TimeInput(format="%H:%M"),
        help_text="Leave empty to record it as now.",
    )  # fmt: skip
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, action: PumpAction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if action in (PumpAction.PAUSED, PumpAction.STOPPED):
            del self.fields["rate_ml_per_h"]
        elif action == PumpAction.RESUMED:
            self.fields["rate_ml_per_h"].required = False
            self.fields["rate_ml_per_h"].label = "Pump rate (mL/h), if it changes"
        if action == PumpAction.STOPPED:
            self.fields["reason"].required = True
            self.fields["reason"].label = "Why it was stopped early"
        elif action == PumpAction.PAUSED:
            self.fields["reason"].label = "Why it was paused"
        elif action == PumpAction.RATE_CHANGED:
            self.fields["reason"].label = "Why the rate changed"
        else:
            del self.fields["reason"]


class DissociationForm(forms.Form):
    rated_time = ClockTimeField(label="Rated at")
    total = forms.IntegerField(
        label="CADSS total", min_value=0, max_value=92,
        help_text="From the clinic's CADSS form (23-item version; range 0-92 is "
        "provisional).",
    )  # fmt: skip
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(choices=SessionNote.Kind.choices, label="Type")
    noted_time = ClockTimeField(label="At")
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000,
        label="Observation or details",
    )  # fmt: skip
    drug = forms.CharField(required=False, max_length=120, label="Drug (if given)")
    dose = forms.CharField(required=False, max_length=60, label="Dose and route")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if not (data.get("text") or data.get("drug")):
            raise forms.ValidationError("Write the observation, or the drug given.")
        if data.get("drug") and not data.get("dose"):
            self.add_error("dose", "Give the dose of the drug.")
        return data


class AdverseEventForm(forms.ModelForm[AdverseEvent]):
    occurred_time = ClockTimeField(label="Began at")

    class Meta:
        model = AdverseEvent
        fields = [
            "kind", "description", "severity", "is_serious", "action_taken", "outcome",
        ]  # fmt: skip
        labels = {"kind": "Type", "is_serious": "Serious: tell the physician now"}
        widgets = {"action_taken": forms.Textarea(attrs={"rows": 2})}


class AldreteForm(forms.Form):
    escort_present = forms.BooleanField(
        required=False, label="The escort is here to take the patient home"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label, anchors in ALDRETE_ITEMS:
            self.fields[key] = forms.TypedChoiceField(
                label=label,
                choices=[
                    (str(i), f"{i}: {text}")
                    for i, text in reversed(list(enumerate(anchors)))
                ],
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.order_fields([k for k, _, _ in ALDRETE_ITEMS])

    def items(self) -> dict[str, int]:
        return {k: self.cleaned_data[k] for k, _, _ in ALDRETE_ITEMS}


class DischargeForm(forms.Form):
    override_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000,
        label="Physician's reason for discharging early",
    )  # fmt: skip


class AddendumForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Why the correction")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Correction")


class WasteForm(WitnessForm):
    amount_mg = forms.DecimalField(
        label="Amount wasted (mg)", min_value=Decimal("0.1"), decimal_places=1
    )
    reason = forms.CharField(
        max_length=300, label="Why", initial="Remainder of the opened vial"
    )


class ReceiptForm(WitnessForm):
    drug = forms.ChoiceField(choices=Drug.choices)
    product = forms.CharField(max_length=120, help_text="e.g. Ketamine HCl injection")
    strength_mg_per_ml = forms.DecimalField(
        label="Strength (mg/mL, as base)", min_value=Decimal("0.1"), decimal_places=2
    )
    vial_volume_ml = forms.DecimalField(
        label="Volume per vial or device (mL)", min_value=Decimal("0.01"),
        decimal_places=2,
    )  # fmt: skip
    vials_received = forms.IntegerField(min_value=1, max_value=10000)
    supplier = forms.CharField(max_length=120)
    lot_number = forms.CharField(max_length=60)
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    received_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    field_order = [
        "drug", "product", "strength_mg_per_ml", "vial_volume_ml", "vials_received",
        "supplier", "lot_number", "expires_on", "received_on", "witness",
        "witness_password",
    ]  # fmt: skip


class CountForm(WitnessForm):
    counted_mg = forms.DecimalField(
        label="Counted (mg)", min_value=Decimal("0"), decimal_places=1
    )
    counted_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    explanation = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the count differs from the register.",
    )  # fmt: skip
    field_order = [
        "counted_mg",
        "counted_on",
        "explanation",
        "witness",
        "witness_password",
    ]


FROZEN_WHEN_USED = ("drug", "route", "dose_basis", "infusion_minutes")


class ProtocolForm(forms.ModelForm[Protocol]):
    class Meta:
        model = Protocol
        fields = [
            "name", "drug", "route", "dose_basis", "usual_dose", "max_dose",
            "allowed_doses", "infusion_minutes", "planned_sessions", "planned_days",
            "vitals_interval_minutes", "vitals_checkpoints",
            "dissociation_rating_minutes", "observation_minutes",
            "discharge_pass_score", "systolic_max", "diastolic_max", "spo2_min",
            "heart_rate_min", "heart_rate_max", "respiratory_rate_min",
            "respiratory_rate_max", "blood_pressure_action", "spo2_action",
            "heart_rate_action", "respiratory_rate_action", "asks_pregnancy_status",
            "preparation", "sources", "is_active",
        ]  # fmt: skip
        widgets = {
            f: forms.Textarea(attrs={"rows": 3})
            for f in (
                "blood_pressure_action", "spo2_action", "heart_rate_action",
                "respiratory_rate_action", "preparation", "sources",
            )
        }  # fmt: skip

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        usual, maximum = data.get("usual_dose"), data.get("max_dose")
        if usual is not None and maximum is not None and usual > maximum:
            self.add_error("usual_dose", "The usual dose is above the maximum.")
        allowed = (data.get("allowed_doses") or "").split(",")
        try:
            [Decimal(v.strip()) for v in allowed if v.strip()]
        except ArithmeticError:
            self.add_error("allowed_doses", "Numbers separated by commas.")
        checkpoints = [
            v.strip() for v in (data.get("vitals_checkpoints") or "").split(",")
        ]
        if any(v and not (v.isdigit() and int(v) <= 600) for v in checkpoints):
            self.add_error(
                "vitals_checkpoints",
                "Whole minutes from 0 to 600, separated by commas.",
            )
        score = data.get("discharge_pass_score")
        if score is not None and not 0 <= score <= 10:
            self.add_error(
                "discharge_pass_score", "The Aldrete total runs from 0 to 10."
            )
        if not self.instance._state.adding and self.instance.courses_using():
            for name in FROZEN_WHEN_USED:
                if name in self.changed_data:
                    self.add_error(
                        name,
                        "Courses were prescribed from this protocol, so its drug, "
                        "route, dose basis and infusion time stay as they are: make "
                        "a new protocol instead.",
                    )
        return data


class IntegrationForm(forms.ModelForm[IntegrationSession]):
    class Meta:
        model = IntegrationSession
        fields = [
            "held_on", "intentions", "insights", "themes", "goals", "homework",
            "psychotherapy_note",
        ]  # fmt: skip
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}),
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in (
                    "intentions", "insights", "goals", "homework", "psychotherapy_note"
                )
            },
        }  # fmt: skip
        labels = {
            "intentions": "Intentions (before the dose)",
            "insights": "Insights (after the dose)",
            "homework": "Homework for the patient",
        }

    def __init__(self, *args: Any, show_note: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_note:
            del self.fields["psychotherapy_note"]

    def values(self) -> dict[str, Any]:
        return {
            k: self.cleaned_data[k]
            for k in (
                "held_on",
                "intentions",
                "insights",
                "themes",
                "goals",
                "homework",
            )
        }


MOOD = [("", "Choose…"), *((str(n), str(n)) for n in range(11))]


class MindfulnessForm(forms.Form):
    practised_on = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )  # fmt: skip
    minutes = forms.IntegerField(min_value=1, max_value=600, label="Minutes")
    practice = forms.ChoiceField(
        choices=[("", "Choose…"), *MindfulnessPractice.Practice.choices],
        label="Practice",
    )
    mood_before = forms.TypedChoiceField(
        choices=MOOD, coerce=int, label="Mood before (0 = very low, 10 = very good)"
    )
    mood_after = forms.TypedChoiceField(
        choices=MOOD, coerce=int, label="Mood after (0 = very low, 10 = very good)"
    )
    note = forms.CharField(required=False, max_length=300, label="Note (optional)")
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def values(self) -> dict[str, Any]:
        return {
            k: self.cleaned_data[k]
            for k in (
                "practised_on", "minutes", "practice", "mood_before", "mood_after",
                "note",
            )
        }  # fmt: skip
