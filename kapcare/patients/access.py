"""Permission-checked getters for patient records; each records the read in the audit log."""

import uuid
from collections.abc import Iterable

from django.http import Http404

from kapcare.accounts.access import refuse
from kapcare.accounts.models import User
from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_event,
    record_events,
)
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.models import Patient

PERMISSION_FOR: dict[str, str] = {
    Information.DEMOGRAPHICS: "patients.view_patient",
    Information.HISTORY: "patients.view_patient",
    Information.CLINICAL: "patients.view_clinical_record",
}


def _record_chart_read(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    *,
    information: str,
    summary: str,
    action: str = Action.VIEW,
) -> None:
    record_event(
        request=request,
        action=action,
        patient=patient,
        information=information,
        object_type="patient",
        object_id=patient.pk,
        summary=summary,
    )


def chart_information(user: User) -> str:
    """What the chart page shows this user: clinical staff also see safety alerts."""
    if user.has_perm(PERMISSION_FOR[Information.CLINICAL]):
        return Information.CLINICAL
    return Information.DEMOGRAPHICS


def get_patient_for_user(
    request: AuthenticatedHttpRequest,
    patient_id: uuid.UUID | str,
    *,
    information: str = Information.DEMOGRAPHICS,
    summary: str = "Viewed chart",
    action: str = Action.VIEW,
) -> Patient:
    """Fetch a chart the signed-in user may see, and record that they saw it.

    A patient may only reach their own chart; anyone else's answers 404 so the
    refusal does not reveal that the chart exists. Staff need the permission for
    the type of information asked for (front desk: demographics, never clinical).
    """
    user = request.user
    patient = (
        Patient.objects.select_related("responsible_physician", "responsible_therapist")
        .filter(pk=patient_id)
        .first()
    )
    if user.is_patient:
        if patient is None or patient.user_id != user.pk:
            refuse(request, "A patient asked for another chart")
            raise Http404("No such chart")
    elif not user.has_perm(PERMISSION_FOR[information]):
        raise refuse(request, f"Role may not view {information}", patient=patient)
    elif patient is None:
        raise Http404("No such chart")
    _record_chart_read(
        request, patient, information=information, summary=summary, action=action
    )
    return patient


def get_own_chart(
    request: AuthenticatedHttpRequest,
    *,
    information: str,
    summary: str,
    action: str = Action.VIEW,
) -> Patient:
    """The signed-in patient's own chart, for the portal; records the read."""
    patient = Patient.objects.select_related("responsible_physician").get(
        user=request.user
    )
    _record_chart_read(
        request, patient, information=information, summary=summary, action=action
    )
    return patient


def record_patients_listed(
    request: AuthenticatedHttpRequest, patients: Iterable[Patient], *, summary: str
) -> None:
    """Record that each listed patient's identifiers were shown (one event per patient,
    so each appears in their own "who looked at my record"). One bulk write."""
    listed = [
        PendingEvent(
            action=Action.SEARCH,
            patient_id=str(patient.pk),
            information=Information.PATIENT_LIST,
            object_type="patient_list",
            object_id=str(patient.pk),
            summary=summary,
        )
        for patient in patients
    ]
    if listed:
        record_events(listed, context=Context.from_request(request))


def get_patient_for_user_rw(
    request: AuthenticatedHttpRequest, patient_id: uuid.UUID | str
) -> Patient:
    """Fetch a chart for editing (staff with change permission only)."""
    if request.user.is_patient or not request.user.has_perm("patients.change_patient"):
        raise refuse(request, "Role may not change charts")
    return get_patient_for_user(request, patient_id, summary="Opened chart for editing")
