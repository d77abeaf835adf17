import hashlib
import time
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils import timezone

from kapcare.intake.eligibility import CONTRAINDICATIONS, PRECAUTIONS
from kapcare.intake.models import (
    AntidepressantTrial,
    ConsultationRequest,
    EligibilityAssessment,
)
from kapcare.intake.selfcheck import QUESTIONS, TRIED_CHOICES
from kapcare.lib.canada import clean_canadian_phone
from kapcare.lib.documents import DocumentRefusedError, check_document
from kapcare.measures.forms import ItemAnswersForm
from kapcare.measures.instruments import INSTRUMENTS

CONSENT_WORDING = (
    "I agree that {clinic} may contact me by the email address or phone number I "
    "gave, about my consultation request. I can withdraw this consent at any time "
    "by telling the clinic."
)
FORM_SALT = "kapcare.intake.form-started"
SELF_CHECK_SALT = "kapcare.intake.self-check"


class SpamRefusedError(Exception):
    """The honeypot was filled or the form came back too fast."""


def form_started_token(submission_key: str) -> str:
    """When this form was handed out, bound to its submission key, so one fetched
    token cannot be replayed for many fast posts."""
    return signing.dumps({"t": time.time(), "k": submission_key}, salt=FORM_SALT)


class ConsultationRequestForm(forms.ModelForm[ConsultationRequest]):
    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": "Tick the box so we may contact you; we cannot reply otherwise."
        },
    )
    # Honeypot: hidden from people (and screen readers), filled in by bots.
    website = forms.CharField(required=False, label="Leave this field empty")
    started = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    self_check = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ConsultationRequest
        fields = [
            "given_name", "family_name", "born_on", "email", "phone",
            "preferred_contact", "preferred_time", "heard_from", "message",
        ]  # fmt: skip
        labels = {
            "given_name": "First name",
            "family_name": "Last name",
            "born_on": "Date of birth (optional)",
            "email": "Email",
            "phone": "Phone",
            "preferred_contact": "How should we contact you?",
            "preferred_time": "Best time to reach you",
            "heard_from": "How did you hear about us? (optional)",
            "message": "Anything you would like us to know? (optional)",
        }
        widgets = {
            "born_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "message": forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
            "preferred_contact": forms.RadioSelect,
        }

    def __init__(self, *args: Any, clinic_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_wording = CONSENT_WORDING.format(clinic=clinic_name)
        self.fields["consent"].label = self.consent_wording
        key = uuid.uuid4().hex
        self.fields["submission_key"].initial = key
        self.fields["started"].initial = form_started_token(key)
        contact = self.fields["preferred_contact"]
        heard = self.fields["heard_from"]
        assert isinstance(contact, forms.ChoiceField)  # noqa: S101 - type narrowing
        assert isinstance(heard, forms.ChoiceField)  # noqa: S101 - type narrowing
        contact.choices = ConsultationRequest.Contact.choices  # no blank radio
        heard.choices = [("", "Choose…"), *ConsultationRequest.HeardFrom.choices]
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel"}
        )
        self.fields["given_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["family_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["website"].widget.attrs.update(
            {"autocomplete": "off", "tabindex": "-1"}
        )

    def clean_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("phone") or ""))

    def clean_born_on(self) -> Any:
        day = self.cleaned_data.get("born_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        return day

    def clean_self_check(self) -> dict[str, Any] | None:
        token = self.cleaned_data.get("self_check")
        if not token:
            return None
        try:
            payload: dict[str, Any] = signing.loads(
                token, salt=SELF_CHECK_SALT, max_age=settings.INTAKE_SELF_CHECK_AGE
            )
        except signing.BadSignature as exc:
            raise forms.ValidationError(
                "Your self-check answers have expired; you can take it again or send "
                "the request without them."
            ) from exc
        payload["token_hash"] = hashlib.sha256(str(token).encode()).hexdigest()
        return payload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        contact = cleaned.get("preferred_contact")
        email, phone = cleaned.get("email"), cleaned.get("phone")
        if not email and not phone and "email" not in self.errors:
            raise forms.ValidationError("Give an email address or a phone number.")
        if contact == ConsultationRequest.Contact.EMAIL and not email:
            self.add_error("email", "Give an email address, or choose phone or text.")
        if (
            contact
            in {ConsultationRequest.Contact.PHONE, ConsultationRequest.Contact.TEXT}
            and not phone
            and "phone" not in self.errors
        ):
            self.add_error("phone", "Give a phone number, or choose email.")
        return cleaned

    def spam_check(self) -> None:
        """Raise SpamRefusedError for a filled honeypot or a form sent too fast."""
        if self.data.get("website"):
            raise SpamRefusedError(
                "This form could not be accepted. If you are a person, clear the "
                "hidden 'website' field or call the clinic."
            )
        try:
            stamp = signing.loads(
                str(self.data.get("started", "")), salt=FORM_SALT, max_age=86_400
            )
            started = float(stamp["t"])
            if stamp["k"] != self.data.get("submission_key"):
                raise ValueError("token of another form")
        except (signing.BadSignature, TypeError, ValueError, KeyError) as exc:
            raise SpamRefusedError(
                "This form is out of date. Please check your details and send again."
            ) from exc
        if time.time() - started < settings.INTAKE_MIN_FILL_SECONDS:
            raise SpamRefusedError(
                "That was very quick. Please check your details and press send again."
            )


class SelfCheckForm(ItemAnswersForm):
    """PHQ-9 items, antidepressants tried, and the screening questions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, instrument=INSTRUMENTS["phq9"], **kwargs)
        self.fields["antidepressants_tried"] = forms.ChoiceField(
            label=(
                "In this episode of depression, how many antidepressants have you "
                "tried at the dose and for the time your doctor prescribed, without "
                "enough improvement?"
            ),
            choices=TRIED_CHOICES,
            widget=forms.RadioSelect,
        )
        for question in QUESTIONS:
            self.fields[f"screen_{question.code}"] = forms.ChoiceField(
                label=question.text,
                choices=[("no", "No"), ("yes", "Yes")],
                widget=forms.RadioSelect,
            )

    def screening(self) -> dict[str, bool]:
        return {
            q.code: self.cleaned_data.get(f"screen_{q.code}") == "yes"
            for q in QUESTIONS
        }

    def screening_fields(self) -> list[forms.BoundField]:
        return [self[f"screen_{q.code}"] for q in QUESTIONS]


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(
        label="Move to", choices=ConsultationRequest.Status.choices
    )
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    current = forms.CharField(widget=forms.HiddenInput)


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Open (new to assessed)"),
            ("all", "All"),
            *ConsultationRequest.Status.choices,
        ],
    )
    q = forms.CharField(label="Name, email or phone", required=False, max_length=100)


def _digits(value: str, label: str) -> str:
    cleaned = "".join(value.split())
    if cleaned and not cleaned.isdigit():
        raise forms.ValidationError(f"The {label} has digits only.")
    return cleaned


class ReferralForm(forms.Form):
    """Staff enter a referral: who is referred, by whom, why, and the letter."""

    given_name = forms.CharField(label="Patient's first name", max_length=100)
    family_name = forms.CharField(label="Patient's last name", max_length=100)
    born_on = forms.DateField(
        label="Patient's date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    email = forms.EmailField(label="Patient's email", required=False)
    phone = forms.CharField(label="Patient's phone", required=False, max_length=30)
    clinician_name = forms.CharField(label="Referring clinician", max_length=150)
    cpso_number = forms.CharField(label="CPSO number", required=False, max_length=10)
    billing_number = forms.CharField(
        label="Billing number", required=False, max_length=10
    )
    clinician_phone = forms.CharField(
        label="Clinician's phone", required=False, max_length=30
    )
    clinician_fax = forms.CharField(
        label="Clinician's fax", required=False, max_length=30
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    letter = forms.FileField(
        label="Referral letter (PDF, PNG or JPEG)",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/png,image/jpeg"}
        ),
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission_key"].initial = uuid.uuid4().hex

    def clean_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("phone") or ""))

    def clean_clinician_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("clinician_phone") or ""))

    def clean_clinician_fax(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("clinician_fax") or ""))

    def clean_cpso_number(self) -> str:
        return _digits(str(self.cleaned_data.get("cpso_number") or ""), "CPSO number")

    def clean_billing_number(self) -> str:
        return _digits(
            str(self.cleaned_data.get("billing_number") or ""), "billing number"
        )

    def clean_letter(self) -> Any:
        letter = self.cleaned_data.get("letter")
        if letter:
            try:
                check_document(letter)
            except DocumentRefusedError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return letter

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("email") and not cleaned.get("phone") and not self.errors:
            raise forms.ValidationError(
                "Give the patient's email address or phone number, so we can contact them."
            )
        return cleaned


class ConsentDocumentForm(forms.Form):
    title = forms.CharField(
        max_length=200, initial="Consent to ketamine-assisted psychotherapy"
    )
    body = forms.CharField(
        label="Consent text",
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=40000,
    )
    requires_reconsent = forms.BooleanField(
        label="Patients who signed an earlier version must sign this one",
        required=False,
        initial=True,
    )


class PortalConsentForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    agree = forms.BooleanField(
        label="I have read this consent form, had the chance to ask questions, and agree.",
        error_messages={
            "required": "Tick the box to agree, or contact the clinic with questions."
        },
    )
    typed_name = forms.CharField(
        label="Type your full legal name to sign", max_length=200
    )


class PaperConsentForm(forms.Form):
    version = forms.IntegerField(label="Version signed", min_value=1)
    signed_on = forms.DateField(
        label="Date signed", widget=forms.DateInput(attrs={"type": "date"})
    )
    scan = forms.FileField(
        label="Scanned form (PDF, PNG or JPEG)",
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/png,image/jpeg"}
        ),
    )

    def clean_signed_on(self) -> Any:
        day = self.cleaned_data["signed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return day

    def clean_scan(self) -> Any:
        scan = self.cleaned_data.get("scan")
        if scan:
            try:
                check_document(scan)
            except DocumentRefusedError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return scan


class AssessmentForm(forms.ModelForm[EligibilityAssessment]):
    """The physician's assessment draft. The numeric bounds in `clean` only catch
    typing slips (a BP of 1200); they are not clinical thresholds, which this form
    does not judge."""

    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    contraindications = forms.MultipleChoiceField(
        label="Contraindications (esketamine label)",
        choices=CONTRAINDICATIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    precautions = forms.MultipleChoiceField(
        label="Precautions (esketamine label)",
        choices=PRECAUTIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = EligibilityAssessment
        fields = [
            "episode_months", "severity", "augmentation_used", "ect_used",
            "contraindications", "precautions", "override_reason",
            "bp_systolic", "bp_diastolic", "heart_rate", "weight_kg", "height_cm",
            "psychiatric_history", "substance_history", "current_medications",
            "takes_benzodiazepine", "takes_lamotrigine", "takes_maoi",
            "decision", "rationale",
        ]  # fmt: skip
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "override_reason", "psychiatric_history", "substance_history",
                "current_medications", "rationale",
            )
        }  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        systolic, diastolic = cleaned.get("bp_systolic"), cleaned.get("bp_diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("bp_diastolic", "Diastolic must be lower than systolic.")
        for name, low, high in (
            ("bp_systolic", 50, 300), ("bp_diastolic", 20, 200), ("heart_rate", 20, 250),
            ("weight_kg", 20, 400), ("height_cm", 90, 250), ("episode_months", 0, 600),
        ):  # fmt: skip
            value = cleaned.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, f"Enter a value from {low} to {high}.")
        return cleaned


TrialFormSet: type[
    forms.BaseInlineFormSet[
        AntidepressantTrial, EligibilityAssessment, forms.ModelForm[AntidepressantTrial]
    ]
] = forms.inlineformset_factory(
    EligibilityAssessment,
    AntidepressantTrial,
    fields=["drug", "dose", "duration_weeks", "adequate", "outcome", "reason_stopped"],
    extra=2,
    can_delete=True,
)


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
