import pytest
from django.db import transaction
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.patients.services import allocate_mrns, create_patient
from tests.conftest import ClientFor
from tests.factories import valid_health_number

pytestmark = pytest.mark.django_db
URL = reverse("patients:patient_create")


def _data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "legal_given_name": "Rowan", "legal_family_name": "Ashcombe", "born_on": "1988-04-12",
        "sex_at_birth": "female", "province": "ON", "status": "prospect",
        "phone": "416 555 0134", "health_number": valid_health_number(7), "health_version_code": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_front_desk_creates_a_chart_with_an_mrn(
    client_for: ClientFor, front_desk: User
) -> None:
    response = client_for(front_desk).post(URL, _data())
    patient = Patient.objects.get(legal_family_name="Ashcombe")
    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    assert patient.mrn.startswith("KC") and len(patient.mrn) == 9
    assert patient.phone == "+14165550134"
    event = AuditEvent.objects.get(patient=patient, action=AuditEvent.Action.CREATE)
    assert event.actor_id == front_desk.pk
    assert event.detail["changes"]["legal_family_name"] == ["", "Ashcombe"]


def test_mrns_are_consecutive_and_unique() -> None:
    first = allocate_mrns(2)
    second = allocate_mrns(1)
    numbers = [int(m[2:]) for m in [*first, *second]]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_wrong_check_digit_is_refused_and_nothing_is_saved(
    client_for: ClientFor, front_desk: User
) -> None:
    response = client_for(front_desk).post(URL, _data(health_number="1234567890"))
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not Patient.objects.exists()


def test_a_crash_mid_write_leaves_no_half_record(
    nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(**kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("kapcare.patients.services.record_event", crash)
    fields = {
        "legal_given_name": "Ada",
        "legal_family_name": "Crash",
        "born_on": "1990-01-01",
        "sex_at_birth": "male",
    }
    with pytest.raises(RuntimeError), transaction.atomic():
        create_patient(request=None, fields=fields, created_by=nurse)
    assert not Patient.objects.filter(legal_family_name="Crash").exists()
