from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import (
    AlertStateError,
    raise_safety_alert,
    resolve_safety_alert,
)
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _alert(patient: Patient, level: str = "high") -> SafetyAlert:
    return raise_safety_alert(
        request=None,
        patient=patient,
        level=level,
        trigger="manual",
        reason="observed risk",
    )


def test_a_clinician_flags_a_risk_from_the_chart(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    response = client_for(physician).post(
        reverse("safety:risk_flag", args=[patient_a.pk]),
        {"level": "high", "reason": "Talked about a plan", "submission_key": "k1"},
    )
    assert response.status_code == 302
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert (alert.level, alert.state, alert.raised_by_id) == (
        "high",
        "open",
        physician.pk,
    )
    assert AuditEvent.objects.filter(
        object_type="safety_alert", object_id=str(alert.pk)
    ).exists()


def test_open_alerts_show_in_every_clinical_header_and_on_the_chart(
    client_for: ClientFor, nurse: User, patient_a: Patient, patient_b: Patient
) -> None:
    _alert(patient_a)
    client = client_for(nurse)
    listing = client.get(reverse("patients:patient_list"))
    assert b'aria-label="1 open"' in listing.content
    chart = client.get(reverse("patients:patient_detail", args=[patient_a.pk]))
    assert b"observed risk" in chart.content
    assert b"Acknowledge" in chart.content


def test_acknowledging_needs_an_action(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client_for(nurse).post(
        reverse("safety:alert_acknowledge", args=[alert.pk]), {"action": ""}
    )
    alert.refresh_from_db()
    assert alert.state == "open"


def test_other_needs_a_note(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client_for(nurse).post(
        reverse("safety:alert_acknowledge", args=[alert.pk]),
        {"action": "other", "note": " "},
    )
    alert.refresh_from_db()
    assert alert.state == "open"


def test_acknowledging_records_who_when_and_what(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client_for(nurse).post(
        reverse("safety:alert_acknowledge", args=[alert.pk]),
        {"action": "called_patient", "note": "Safe at home"},
    )
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by_id, alert.action) == (
        "acknowledged",
        nurse.pk,
        "called_patient",
    )
    assert alert.acknowledged_at is not None
    event = AuditEvent.objects.filter(
        object_id=str(alert.pk), action=AuditEvent.Action.UPDATE
    ).get()
    assert event.detail == {"action": "called_patient", "note": "Safe at home"}


def test_a_second_acknowledgement_changes_nothing(
    client_for: ClientFor, nurse: User, physician: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    url = reverse("safety:alert_acknowledge", args=[alert.pk])
    client_for(nurse).post(url, {"action": "called_patient"})
    client_for(physician).post(url, {"action": "sent_to_emergency"})
    alert.refresh_from_db()
    assert (alert.acknowledged_by_id, alert.action) == (nurse.pk, "called_patient")


def test_an_open_alert_cannot_be_resolved_without_acknowledgement(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client_for(nurse).post(
        reverse("safety:alert_resolve", args=[alert.pk]), {"resolution": "addressed"}
    )
    alert.refresh_from_db()
    assert alert.state == "open"


def test_raised_in_error_needs_a_reason_and_keeps_the_alert(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client = client_for(nurse)
    client.post(
        reverse("safety:alert_acknowledge", args=[alert.pk]),
        {"action": "other", "note": "checked"},
    )
    client.post(
        reverse("safety:alert_resolve", args=[alert.pk]),
        {"resolution": "raised_in_error", "note": ""},
    )
    alert.refresh_from_db()
    assert alert.state == "acknowledged"
    client.post(
        reverse("safety:alert_resolve", args=[alert.pk]),
        {"resolution": "raised_in_error", "note": "Wrong chart"},
    )
    alert.refresh_from_db()
    assert (alert.state, alert.resolution) == ("resolved", "raised_in_error")
    assert SafetyAlert.objects.filter(pk=alert.pk).exists()


def test_alerts_can_never_be_deleted(patient_a: Patient) -> None:
    alert = _alert(patient_a)
    with pytest.raises(PermissionError):
        alert.delete()
    with pytest.raises(PermissionError):
        SafetyAlert.objects.filter(pk=alert.pk).delete()
    assert SafetyAlert.objects.count() == 1


def test_the_queue_puts_high_first_then_the_oldest(
    client_for: ClientFor, physician: User
) -> None:
    start = timezone.now()
    with time_machine.travel(start - timedelta(hours=3)):
        old_moderate = _alert(PatientFactory.create(), "moderate")
    with time_machine.travel(start - timedelta(hours=2)):
        old_high = _alert(PatientFactory.create(), "high")
    new_high = _alert(PatientFactory.create(), "high")
    response = client_for(physician).get(reverse("safety:alert_queue"))
    assert list(response.context["page"]) == [old_high, new_high, old_moderate]
    listed = AuditEvent.objects.filter(summary="Listed in the safety alert queue")
    assert listed.count() == 3


def test_resolved_alerts_leave_the_queue(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    client = client_for(nurse)
    client.post(
        reverse("safety:alert_acknowledge", args=[alert.pk]),
        {"action": "called_patient"},
    )
    client.post(
        reverse("safety:alert_resolve", args=[alert.pk]), {"resolution": "addressed"}
    )
    assert list(client.get(reverse("safety:alert_queue")).context["page"]) == []


def test_a_double_submitted_risk_flag_raises_one_alert(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    client = client_for(physician)
    form = {"level": "moderate", "reason": "Seemed withdrawn", "submission_key": "same"}
    client.post(reverse("safety:risk_flag", args=[patient_a.pk]), form)
    client.post(reverse("safety:risk_flag", args=[patient_a.pk]), form)
    assert SafetyAlert.objects.filter(patient=patient_a).count() == 1


def test_the_service_refuses_to_resolve_an_open_alert(
    nurse: User, patient_a: Patient
) -> None:
    alert = _alert(patient_a)
    request = RequestFactory().post("/")
    request.user = nurse
    with pytest.raises(AlertStateError):
        resolve_safety_alert(
            request=request, alert=alert, resolution="addressed", note="", by=nurse
        )
    alert.refresh_from_db()
    assert alert.state == "open"


def test_front_desk_never_sees_alerts(
    client_for: ClientFor, front_desk: User, patient_a: Patient
) -> None:
    _alert(patient_a)
    client = client_for(front_desk)
    for url in [
        reverse("patients:patient_list"),
        reverse("patients:patient_detail", args=[patient_a.pk]),
    ]:
        body = client.get(url).content
        assert b"observed risk" not in body
        assert b"Alerts" not in body
