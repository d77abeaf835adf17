"""Eligibility assessments: drafts, physician sign-off, addenda; and their summary."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.services import Action, Information, record_event
from kapcare.intake.eligibility import (
    CONTRAINDICATIONS,
    Trial,
    adequate_failed_trials,
    bmi,
    is_trd,
    maudsley,
)
from kapcare.intake.models import AssessmentAddendum, EligibilityAssessment
from kapcare.measures.scoring import Score
from kapcare.patients.models import Patient


class AssessmentError(ValueError):
    """The assessment cannot be changed or signed as asked."""


@dataclass(frozen=True)
class Summary:
    failed_trials: int
    trd: bool
    msm: Score | None
    bmi: Decimal | None
    blocking: tuple[str, ...]


def summarise(assessment: EligibilityAssessment) -> Summary:
    trials = [Trial(t.adequate, t.outcome) for t in assessment.trials.all()]
    failed = adequate_failed_trials(trials)
    msm = None
    if assessment.episode_months is not None and assessment.severity:
        msm = maudsley(
            months=assessment.episode_months, severity=assessment.severity,
            failed=failed, augmentation=assessment.augmentation_used,
            ect=assessment.ect_used,
        )  # fmt: skip
    labels = dict(CONTRAINDICATIONS)
    return Summary(
        failed_trials=failed,
        trd=is_trd(trials),
        msm=msm,
        bmi=bmi(assessment.weight_kg, assessment.height_cm),
        blocking=tuple(labels[c] for c in assessment.contraindications if c in labels),
    )


def frozen_summary(summary: Summary) -> dict[str, object]:
    """The summary as signed, kept with the record (later rule changes leave it be)."""
    return {
        "failed_trials": summary.failed_trials,
        "trd": summary.trd,
        "msm": {"total": summary.msm.total, "band": summary.msm.band}
        if summary.msm
        else None,
        "bmi": str(summary.bmi) if summary.bmi is not None else None,
        "blocking": list(summary.blocking),
    }


def summary_for(assessment: EligibilityAssessment) -> object:
    """What the page shows: as signed for a signed record, else computed now."""
    if assessment.is_signed and assessment.signed_summary:
        return assessment.signed_summary
    return summarise(assessment)


def is_physician(user: User) -> bool:
    return user.groups.filter(name=Role.PHYSICIAN.value).exists()


def start_assessment(
    *, request: HttpRequest, patient: Patient, by: User
) -> EligibilityAssessment:
    with transaction.atomic():
        assessment = EligibilityAssessment.objects.create(
            patient=patient, created_by=by
        )
        record_event(
            request=request, action=Action.CREATE, patient=patient,
            information=Information.CLINICAL, object_type="eligibility_assessment",
            object_id=assessment.pk, summary="Started an eligibility assessment",
        )  # fmt: skip
    return assessment


def record_saved(request: HttpRequest, assessment: EligibilityAssessment) -> None:
    record_event(
        request=request, action=Action.UPDATE, patient=assessment.patient,
        information=Information.CLINICAL, object_type="eligibility_assessment",
        object_id=assessment.pk, summary="Saved the eligibility assessment draft",
    )  # fmt: skip


def sign_assessment(
    *, request: HttpRequest, assessment: EligibilityAssessment, by: User
) -> None:
    """The physician signs: a decision with its rationale; "eligible" is refused
    while a contraindication is ticked unless an override reason is recorded."""
    if not is_physician(by):
        raise AssessmentError("Only a physician signs an eligibility assessment.")
    with transaction.atomic():
        locked = EligibilityAssessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.is_signed:
            raise AssessmentError("This assessment is already signed.")
        if not locked.decision or not locked.rationale.strip():
            raise AssessmentError(
                "Record the decision and its rationale before signing."
            )
        summary = summarise(locked)
        blocking = summary.blocking
        if (
            locked.decision == EligibilityAssessment.Decision.ELIGIBLE
            and blocking
            and not locked.override_reason.strip()
        ):
            raise AssessmentError(
                f"“Eligible” needs a reason to proceed despite: {'; '.join(blocking)}."
            )
        now = timezone.now()
        EligibilityAssessment.objects.filter(pk=locked.pk).update(
            signed_by=by, signed_at=now, updated_at=now,
            signed_summary=frozen_summary(summary),
        )  # fmt: skip
        record_event(
            request=request, action=Action.UPDATE, patient=locked.patient,
            information=Information.CLINICAL, object_type="eligibility_assessment",
            object_id=locked.pk,
            summary=f"Signed the eligibility assessment: {locked.get_decision_display()}",
        )  # fmt: skip


def add_addendum(
    *, request: HttpRequest, assessment: EligibilityAssessment, text: str, by: User
) -> AssessmentAddendum:
    if not assessment.is_signed:
        raise AssessmentError(
            "Edit the draft directly; addenda are for signed assessments."
        )
    with transaction.atomic():
        addendum = AssessmentAddendum.objects.create(
            assessment=assessment, text=text, author=by
        )
        record_event(
            request=request, action=Action.UPDATE, patient=assessment.patient,
            information=Information.CLINICAL, object_type="eligibility_assessment",
            object_id=assessment.pk, summary="Added an addendum to the eligibility assessment",
        )  # fmt: skip
    return addendum
