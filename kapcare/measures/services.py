"""Storing questionnaire responses: score, response, safety alerts and audit in one transaction."""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.tokens import new_link_token, token_hash
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.measures.scoring import ScoringError, get_instrument, score
from kapcare.patients.models import Patient
from kapcare.safety.levels import alerts_for_score
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.website.mail import send_clinic_email_on_commit


class SubmissionKeyReusedError(ScoringError):
    """A submission key already stored a different response: never treat that as a retry."""


def _same_submission(
    existing: QuestionnaireResponse,
    patient: Patient,
    instrument: str,
    answers: list[int | None],
) -> QuestionnaireResponse:
    if (
        existing.patient_id != patient.pk
        or existing.instrument != instrument
        or existing.answers != answers
    ):
        # Returning the stored row here would drop these answers (perhaps a positive
        # item 9) and show someone else's score; refuse instead.
        raise SubmissionKeyReusedError(
            "This form was already used for different answers. Reload the form and enter them again."
        )
    return existing


def submit_questionnaire_response(
    *,
    request: HttpRequest | None,
    patient: Patient,
    instrument: str,
    answers: Sequence[int | None],
    source: str,
    submission_key: str,
    entered_by: User | None = None,
    authored_at: datetime | None = None,
) -> tuple[QuestionnaireResponse, bool]:
    """Score and store a response; raise its safety alerts in the same transaction.

    Returns (response, created). A repeated submit with the same key returns the
    first response and raises nothing new. Bad answers raise ScoringError before
    anything is written.
    """
    definition = get_instrument(instrument)
    result = score(instrument, answers)
    existing = QuestionnaireResponse.objects.filter(
        submission_key=submission_key
    ).first()
    if existing is not None:
        return _same_submission(existing, patient, instrument, list(answers)), False
    try:
        with transaction.atomic():
            response = QuestionnaireResponse.objects.create(
                patient=patient,
                instrument=instrument,
                instrument_version=definition.version,
                answers=list(answers),
                total=result.total,
                band=result.band or "",
                subscales=dict(result.subscales),
                flags=list(result.flags),
                risk=result.risk or "",
                is_complete=result.complete,
                source=source,
                entered_by=entered_by,
                authored_at=authored_at or timezone.now(),
                submission_key=submission_key,
            )
            rules = alerts_for_score(
                definition.name,
                result.flags,
                result.risk,
                answers=answers,
                is_cssrs=instrument == "cssrs_screener",
            )
            for rule in rules:
                raise_safety_alert(
                    request=request,
                    patient=patient,
                    level=rule.level,
                    trigger=SafetyAlert.Trigger.QUESTIONNAIRE,
                    reason=rule.reason,
                    source_type="questionnaire_response",
                    source_id=str(response.pk),
                    evidence={
                        "instrument": instrument,
                        "answers": list(answers),
                        "flags": list(result.flags),
                        "risk": result.risk,
                    },
                    raised_by=entered_by,
                )
            record_event(
                request=request,
                actor=entered_by,
                action=Action.CREATE,
                patient=patient,
                information=Information.CLINICAL,
                object_type="questionnaire_response",
                object_id=response.pk,
                summary=f"{definition.name} recorded: total {result.total}, {result.band or 'no band'}",
            )
    except IntegrityError:
        # Two copies of one submit raced; the other one stored it (unique submission_key).
        existing = QuestionnaireResponse.objects.filter(
            submission_key=submission_key
        ).first()
        if existing is None:
            raise
        return _same_submission(existing, patient, instrument, list(answers)), False
    return response, True


class LinkUnusableError(Exception):
    """The questionnaire link was already used or has expired."""


def send_questionnaire_link(
    *, request: HttpRequest, patient: Patient, instrument: str, sent_by: User
) -> QuestionnaireLink:
    """Email the patient a single-use link to one questionnaire (after commit)."""
    definition = get_instrument(instrument)
    if definition.is_clinician_rated:
        raise ValueError(
            f"{definition.name} is rated by a clinician, not sent to the patient."
        )
    if not patient.email:
        raise ValueError(
            "Add the patient's email address before sending a questionnaire."
        )
    token, hashed = new_link_token()
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            patient=patient,
            instrument=instrument,
            token_hash=hashed,
            sent_to=patient.email,
            created_by=sent_by,
            expires_at=timezone.now() + settings.QUESTIONNAIRE_LINK_LIFETIME,
        )
        record_event(
            request=request,
            action=Action.CREATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="questionnaire_link",
            object_id=link.pk,
            summary=f"Emailed a {definition.name} link to {patient.email}",
        )
        url = settings.SITE_URL + reverse("measures:link_fill", args=[token])
        send_clinic_email_on_commit(
            "measures/email/questionnaire_link",
            {
                "patient": patient,
                "instrument": definition,
                "link": url,
                "expires_at": link.expires_at,
            },
            patient.email,
        )
    return link


def find_questionnaire_link(token: str) -> QuestionnaireLink | None:
    return (
        QuestionnaireLink.objects.select_related("patient")
        .filter(token_hash=token_hash(token))
        .first()
    )


def complete_questionnaire_link(
    *, request: HttpRequest, link: QuestionnaireLink, answers: Sequence[int | None]
) -> QuestionnaireResponse:
    """Store the patient's answers once; the link is spent in the same transaction."""
    with transaction.atomic():
        # Two tabs submitting one link at once: the row lock (IMMEDIATE on SQLite)
        # lets one through; the other finds the link used.
        link = (
            QuestionnaireLink.objects.select_for_update()
            .select_related("patient")
            .get(pk=link.pk)
        )
        if not link.is_usable():
            raise LinkUnusableError(
                "This questionnaire link was already used or has expired."
            )
        response, _ = submit_questionnaire_response(
            request=request,
            patient=link.patient,
            instrument=link.instrument,
            answers=answers,
            source=QuestionnaireResponse.Source.PATIENT_LINK,
            submission_key=f"link-{link.pk}",
        )
        link.used_at = timezone.now()
        link.response = response
        link.save(update_fields=["used_at", "response"])
    return response
