"""Safety plans: written with the patient, saved as numbered versions, never overwritten."""

from django.db import transaction
from django.http import HttpRequest

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.patients.models import Patient
from kapcare.safety.models import SAFETY_PLAN_SECTIONS, SafetyPlanVersion

SECTION_NAMES = [name for name, _, _ in SAFETY_PLAN_SECTIONS]


class StalePlanError(Exception):
    """Someone saved a newer version while this one was being written."""


def current_plan(patient: Patient) -> SafetyPlanVersion | None:
    return (
        SafetyPlanVersion.objects.filter(patient=patient)
        .select_related("created_by")
        .order_by("-version")
        .first()
    )


def save_safety_plan(
    *,
    request: HttpRequest,
    patient: Patient,
    texts: dict[str, str],
    written_with_patient: bool,
    based_on: int,
    by: User,
) -> SafetyPlanVersion:
    """Add version `based_on + 1`. If someone else added it first, nothing is saved
    and StalePlanError says so (the caller keeps the text for another try)."""
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        latest = (
            SafetyPlanVersion.objects.filter(patient=patient)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
            or 0
        )
        if latest != based_on:
            raise StalePlanError(
                f"Version {latest} was saved while you were writing. Your text is "
                "below: compare it with the newest version and save again."
            )
        plan = SafetyPlanVersion.objects.create(
            patient=patient,
            version=latest + 1,
            written_with_patient=written_with_patient,
            created_by=by,
            **{name: texts.get(name, "").strip() for name in SECTION_NAMES},
        )
        record_event(
            request=request,
            action=Action.CREATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="safety_plan",
            object_id=plan.pk,
            summary=f"Saved safety plan version {plan.version}",
        )
    return plan
