import uuid
from typing import Any

from django import forms
from django.utils import timezone

from kapcare.measures.instruments import Instrument
from kapcare.measures.models import REPEAT_CHOICES, Channel, QuestionnaireResponse
from kapcare.measures.schedules import Repeat, Schedule

ENTRY_SOURCES = [
    (
        QuestionnaireResponse.Source.CLINICIAN.value,
        QuestionnaireResponse.Source.CLINICIAN.label,
    ),
    (
        QuestionnaireResponse.Source.PAPER.value,
        QuestionnaireResponse.Source.PAPER.label,
    ),
]


class ItemAnswersForm(forms.Form):
    """One radio group per item, unanswered allowed: the scoring engine, not the form,
    decides what a blank means (never a 0)."""

    show_values = False

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            if item.options:
                choices = [
                    (
                        str(o.value),
                        f"{o.value} · {o.text}" if self.show_values else o.text,
                    )
                    for o in item.options
                ]
            else:
                choices = [
                    (str(v), str(v)) for v in range(item.min_value, item.max_value + 1)
                ]
            self.fields[f"item_{item.number}"] = forms.ChoiceField(
                label=f"{item.number}. {item.text or item.label.capitalize()}",
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
            )

    def answers(self) -> list[int | None]:
        values = [
            str(self.cleaned_data.get(f"item_{i.number}") or "")
            for i in self.instrument.items
        ]
        return [int(v) if v else None for v in values]

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{item.number}"] for item in self.instrument.items]


class ResponseEntryForm(ItemAnswersForm):
    """Staff entry of a clinician-rated scale or a patient's paper form."""

    show_values = True
    submission_key = forms.CharField(widget=forms.HiddenInput)
    source = forms.ChoiceField(choices=ENTRY_SOURCES, widget=forms.RadioSelect)
    authored_on = forms.DateField(
        label="Date completed", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, instrument=instrument, **kwargs)
        self.fields["submission_key"].initial = uuid.uuid4().hex
        self.fields["authored_on"].initial = timezone.localdate()
        self.fields["source"].initial = (
            QuestionnaireResponse.Source.CLINICIAN
            if instrument.is_clinician_rated
            else QuestionnaireResponse.Source.PAPER
        )

    def clean_authored_on(self) -> Any:
        day = self.cleaned_data["authored_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return day


class PatientAnswersForm(ItemAnswersForm):
    """What a patient fills in from an emailed link: the items and nothing else."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(
            cleaned.get(f"item_{item.number}") for item in self.instrument.items
        ):
            raise forms.ValidationError("Answer at least one question before sending.")
        return cleaned


class SendLinkForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire")
    channel = forms.ChoiceField(
        label="Send by", choices=Channel.choices, initial=Channel.EMAIL, required=False
    )

    def clean_channel(self) -> str:
        return str(self.cleaned_data.get("channel") or Channel.EMAIL)

    def __init__(
        self, *args: Any, instruments: list[Instrument], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instrument"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - type narrowing
        field.choices = [(i.code, i.name) for i in instruments]


class AssignForm(SendLinkForm):
    """A standing order: which questionnaire, how often, from when, and how to send it."""

    repeat = forms.ChoiceField(label="When", choices=REPEAT_CHOICES)
    interval_weeks = forms.IntegerField(
        label="Every N weeks",
        min_value=1,
        max_value=52,
        initial=2,
        required=False,
        help_text="Only for “Every N weeks”.",
    )
    starts_on = forms.DateField(
        label="Starting", widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label="Until (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self, *args: Any, instruments: list[Instrument], **kwargs: Any
    ) -> None:
        super().__init__(*args, instruments=instruments, **kwargs)
        self.fields["starts_on"].initial = timezone.localdate()

    def clean_starts_on(self) -> Any:
        day = self.cleaned_data["starts_on"]
        if day < timezone.localdate():
            raise forms.ValidationError("Start today or later.")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        repeat, starts_on = cleaned.get("repeat"), cleaned.get("starts_on")
        if repeat == Repeat.EVERY_N_WEEKS and not cleaned.get("interval_weeks"):
            self.add_error("interval_weeks", "Say how many weeks apart.")
        ends_on = cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The end date is before the start date.")
        return cleaned

    def schedule(self) -> Schedule:
        data = self.cleaned_data
        return Schedule(
            Repeat(data["repeat"]),
            data["starts_on"],
            data.get("ends_on"),
            data.get("interval_weeks") or 1,
        )
