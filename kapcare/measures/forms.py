import uuid
from typing import Any

from django import forms
from django.utils import timezone

from kapcare.measures.instruments import Instrument
from kapcare.measures.models import QuestionnaireResponse

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


class ResponseEntryForm(forms.Form):
    """Staff entry of a clinician-rated scale or a patient's paper form: one radio
    group per item, unanswered allowed (the scoring engine decides what that means)."""

    submission_key = forms.CharField(widget=forms.HiddenInput)
    source = forms.ChoiceField(choices=ENTRY_SOURCES, widget=forms.RadioSelect)
    authored_on = forms.DateField(
        label="Date completed", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.fields["submission_key"].initial = uuid.uuid4().hex
        self.fields["authored_on"].initial = timezone.localdate()
        self.fields["source"].initial = (
            QuestionnaireResponse.Source.CLINICIAN
            if instrument.is_clinician_rated
            else QuestionnaireResponse.Source.PAPER
        )
        for item in instrument.items:
            if item.options:
                choices = [
                    (str(o.value), f"{o.value} · {o.text}") for o in item.options
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

    def clean_authored_on(self) -> Any:
        day = self.cleaned_data["authored_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return day

    def answers(self) -> list[int | None]:
        values = [
            str(self.cleaned_data.get(f"item_{item.number}") or "")
            for item in self.instrument.items
        ]
        return [int(v) if v else None for v in values]

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{item.number}"] for item in self.instrument.items]
