"""Safety plans: written with the patient, versioned, visible and printable in the portal."""

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyPlanVersion
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _edit(patient: Patient) -> str:
    return reverse("safety:safety_plan_edit", args=[patient.pk])


def _plan(based_on: int, **texts: str) -> dict[str, str]:
    return {"based_on": str(based_on), "written_with_patient": "on", **texts}


def test_a_therapist_writes_a_plan_and_revises_it_as_a_new_version(
    client_for: ClientFor, therapist: User, patient_a: Patient
) -> None:
    client = client_for(therapist)
    form = client.get(_edit(patient_a)).content.decode()
    assert "call or text 9-8-8" in form  # crisis lines are suggested for step 5
    client.post(_edit(patient_a), _plan(0, warning_signs="Not sleeping"))
    client.post(
        _edit(patient_a),
        _plan(1, warning_signs="Not sleeping", reasons_for_living="My daughter"),
    )
    first, second = SafetyPlanVersion.objects.order_by("version")
    assert (first.version, first.reasons_for_living) == (1, "")
    assert (second.version, second.reasons_for_living) == (2, "My daughter")
    page = client.get(reverse("safety:safety_plan", args=[patient_a.pk]))
    assert "My daughter" in page.content.decode()
    old = client.get(
        reverse("safety:safety_plan", args=[patient_a.pk]), {"version": "1"}
    ).content.decode()
    assert "not the current one" in old and "My daughter" not in old
    assert AuditEvent.objects.filter(
        patient=patient_a, summary="Saved safety plan version 2", actor=therapist
    ).exists()


def test_a_version_saved_meanwhile_is_not_overwritten(
    client_for: ClientFor, therapist: User, physician: User, patient_a: Patient
) -> None:
    client_for(physician).post(_edit(patient_a), _plan(0, warning_signs="Physician's"))
    late = client_for(therapist).post(_edit(patient_a), _plan(0, warning_signs="Mine"))
    text = late.content.decode()
    assert "Version 1 was saved while you were writing" in text
    assert "Mine" in text  # the therapist's text is kept on the page
    assert SafetyPlanVersion.objects.get().warning_signs == "Physician's"


def test_an_empty_plan_is_refused(
    client_for: ClientFor, therapist: User, patient_a: Patient
) -> None:
    response = client_for(therapist).post(_edit(patient_a), _plan(0))
    assert "Write at least one step of the plan." in response.content.decode()
    assert not SafetyPlanVersion.objects.exists()


def test_versions_can_be_neither_changed_nor_deleted(
    client_for: ClientFor, therapist: User, patient_a: Patient
) -> None:
    client_for(therapist).post(_edit(patient_a), _plan(0, warning_signs="x"))
    plan = SafetyPlanVersion.objects.get()
    plan.warning_signs = "changed"
    with pytest.raises(PermissionError):
        plan.save()
    with pytest.raises(PermissionError):
        plan.delete()


def test_the_patient_sees_and_prints_the_current_version(
    client_for: ClientFor, therapist: User, patient_user: User, patient_a: Patient
) -> None:
    # words no Faker name contains ("Walk" matched a patient called Walker)
    old, new = "Knit a scarf slowly", "Swim laps at the pool"
    client_for(therapist).post(_edit(patient_a), _plan(0, coping_strategies=old))
    client_for(therapist).post(_edit(patient_a), _plan(1, coping_strategies=new))
    client = client_for(patient_user)
    page = client.get(reverse("portal:safety_plan")).content.decode()
    assert new in page and old not in page
    assert "Step 2: Internal coping strategies" in page
    printable = client.get(reverse("portal:safety_plan_print")).content.decode()
    assert new in printable and "data-print" in printable
    assert AuditEvent.objects.filter(
        patient=patient_a, actor=patient_user, action=AuditEvent.Action.PRINT
    ).exists()


def test_a_patient_without_a_plan_is_told_so(
    client_for: ClientFor, patient_user: User
) -> None:
    page = client_for(patient_user).get(reverse("portal:safety_plan"))
    assert "You have no safety plan yet" in page.content.decode()


def test_staff_printing_is_audited_as_printing(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client_for(nurse).post(_edit(patient_a), _plan(0, warning_signs="x"))
    client_for(nurse).get(reverse("safety:safety_plan_print", args=[patient_a.pk]))
    assert AuditEvent.objects.filter(
        patient=patient_a, actor=nurse, action=AuditEvent.Action.PRINT
    ).exists()
