"""The cohort CSV: pseudonymised by default, identifiable only for the clinic
admin with a reason, every export audited."""

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.outcomes.export import pseudonym
from kapcare.outcomes.models import CohortExport
from kapcare.patients.models import Patient
from tests.conftest import ClientFor
from tests.outcomes.conftest import Cohort

pytestmark = pytest.mark.django_db
PERIOD = {"starts_on": "2026-01-01", "ends_on": "2026-06-30"}


def _body(response: Any) -> str:
    """A streamed response's whole body."""
    return b"".join(response.streaming_content).decode()


def download(client_for: ClientFor, user: User, **extra: str) -> list[dict[str, str]]:
    response = client_for(user).post(
        reverse("outcomes:cohort_csv"), {**PERIOD, **extra}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8", response.content[:500]
    assert response.status_code == 200
    # pseudonymised rows stream; identifiable ones are built before they are audited
    identifiable = extra.get("identifiable") == "on" and user.has_perm(
        "outcomes.export_identifiable"
    )
    assert response.streaming != identifiable
    text = _body(response) if response.streaming else response.content.decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_is_pseudonymised_by_default(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    rows = download(client_for, physician)
    assert len(rows) == 8  # one per patient-course in the cohort
    a = hand_built.people["a"]
    text = repr(rows)
    assert a.mrn not in text and a.legal_family_name not in text
    assert "mrn" not in rows[0] and "date_of_birth" not in rows[0]
    mine = [r for r in rows if r["patient_pseudonym"] == pseudonym(a.pk)]
    assert len(mine) == 1
    assert (
        mine[0]["phq9_baseline"],
        mine[0]["phq9_latest"],
        mine[0]["phq9_change"],
    ) == ("20", "8", "-12")
    assert (mine[0]["phq9_response"], mine[0]["phq9_remission"]) == ("yes", "no")
    assert mine[0]["age_band"] == "35-44" and mine[0]["doses_given"] == "2"
    assert mine[0]["first_dose_month"] == "2026-03" and "first_dose_date" not in mine[0]
    # the same person has the same pseudonym in the next export
    assert pseudonym(a.pk) in repr(download(client_for, physician))
    event = AuditEvent.objects.filter(action="export").first()
    assert event is not None and event.actor == physician and event.patient_id is None
    assert "pseudonymised, 8 rows" in event.summary
    assert CohortExport.objects.filter(identifiable=False).count() == 2


def test_a_physician_cannot_ask_for_identifiable_rows(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    rows = download(client_for, physician, identifiable="on", reason="curious")
    assert "mrn" not in rows[0]
    assert not CohortExport.objects.filter(identifiable=True).exists()


def test_identifiable_rows_need_a_reason_and_are_audited_per_patient(
    hand_built: Cohort, client_for: ClientFor, clinic_admin: User
) -> None:
    refused = client_for(clinic_admin).post(
        reverse("outcomes:cohort_csv"), {**PERIOD, "identifiable": "on", "reason": " "}
    )
    assert refused.status_code == 400
    assert "Give the reason identifiable rows are needed." in refused.content.decode()
    assert not CohortExport.objects.exists()

    rows = download(
        client_for, clinic_admin, identifiable="on", reason="Ministry audit"
    )
    a = hand_built.people["a"]
    [row] = [r for r in rows if r["mrn"] == a.mrn]
    assert row["first_dose_date"] == "2026-03-01"  # 15:00 UTC is 10:00 in Toronto
    export = CohortExport.objects.get()
    assert (
        export.identifiable and export.reason == "Ministry audit" and export.rows == 8
    )
    per_patient = AuditEvent.objects.filter(action="export", patient_id__isnull=False)
    assert per_patient.count() == 7  # seven people in eight courses
    exported = {r["mrn"] for r in rows}
    audited = Patient.objects.filter(pk__in=per_patient.values("patient_id"))
    assert {p.mrn for p in audited} == exported  # exactly the people in the file
    assert CohortExport.objects.get().rows == len(rows)


def test_the_export_does_not_grow_in_queries_with_the_cohort(
    hand_built: Cohort, client_for: ClientFor, physician: User,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    """Session and permissions, the export record and its audit event, then one
    query per instrument and one for the courses, however many rows (on PostgreSQL
    also the transaction that turns its JIT off for them)."""
    client = client_for(physician)
    client.get(reverse("outcomes:dashboard"))
    with django_assert_max_num_queries(24):  # type: ignore[operator]
        response = client.post(reverse("outcomes:cohort_csv"), PERIOD)
        assert response.streaming
        text = _body(response)
    assert text.count("\n") == 9  # the header and eight courses


def test_bad_export_input_gets_a_clear_error(
    client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).post(
        reverse("outcomes:cohort_csv"), {"starts_on": "soon", "ends_on": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    assert client_for(physician).get(reverse("outcomes:cohort_csv")).status_code == 405
