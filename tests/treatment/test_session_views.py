"""The session page and its htmx steps: access, audit, queries and bad input."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.treatment import services
from kapcare.treatment.models import (
    DosingSession,
    KetamineLot,
    Protocol,
    TreatmentCourse,
    VitalSign,
)
from tests.conftest import ClientFor
from tests.factories import PASSWORD
from tests.treatment.conftest import (
    IV,
    NORMAL_VITALS,
    ready_to_dose,
    request_by,
    stop_infusion,
)
from tests.treatment.test_session_concurrency import seen_on_page

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def step(session: DosingSession, name: str) -> str:
    return reverse(
        "treatment:session_step", args=[session.patient_id, session.pk, name]
    )


def test_the_nurse_opens_the_session_page_and_the_read_is_audited(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    response = client_for(nurse).get(open_session.get_absolute_url())
    assert response.status_code == 200
    assert b"Pre-session checklist" in response.content
    assert b"Record baseline vitals" in response.content
    assert AuditEvent.objects.filter(
        actor=nurse, patient=open_session.patient, summary="Viewed a dosing session"
    ).exists()


def _add_vitals(session: DosingSession, nurse: User, n: int) -> None:
    start = timezone.now() - timedelta(minutes=n)
    VitalSign.objects.bulk_create(
        VitalSign(
            session=session,
            taken_at=start + timedelta(minutes=i),
            is_baseline=i == 0,
            recorded_by=nurse,
            systolic=120 + i % 30,
            diastolic=80,
            heart_rate=70,
            spo2=97,
            respiratory_rate=14,
        )
        for i in range(n)
    )


def test_the_session_page_query_count_does_not_grow_with_vitals(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    client = client_for(nurse)
    _add_vitals(dosed_session, nurse, 1)
    with CaptureQueriesContext(connection) as few:
        client.get(dosed_session.get_absolute_url())
    _add_vitals(dosed_session, nurse, 49)
    # Session, user, OTP device and groups/permissions; the chart audit event
    # (chain head + insert); the session with its people; vitals; ratings; notes;
    # adverse events; addenda; register lines; witness and lot choices; open
    # questionnaire links; the alert badge and chart alerts.
    with django_assert_max_num_queries(len(few)):  # type: ignore[operator]
        response = client.get(dosed_session.get_absolute_url())
    assert response.content.count(b"<tr") >= 50
    assert len(few) <= 40


def test_an_out_of_range_vital_is_highlighted_with_the_action(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    response = client_for(nurse).post(
        step(dosed_session, "vitals"),
        {
            "vitals-taken_time": timezone.localtime().strftime("%H:%M"),
            "vitals-systolic": 158,
            "vitals-diastolic": 96,
            "vitals-heart_rate": 88,
            "vitals-spo2": 95,
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="session-body"')
    assert (
        "Blood pressure high: systolic 158 &gt; 140 mmHg, diastolic 96 &gt; 90 mmHg"
        in body
    )
    assert "keep measuring until values are consistently" in body


def test_bad_vitals_re_render_with_a_message_and_save_nothing(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    response = client_for(nurse).post(
        step(open_session, "vitals"),
        {"vitals-taken_time": "10:00", "vitals-systolic": 150},
    )
    assert response.status_code == 400
    assert b"Enter both systolic and diastolic pressure." in response.content
    assert b'value="150"' in response.content
    assert not VitalSign.objects.exists()


def test_an_unknown_step_is_404(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    assert client_for(nurse).post(step(open_session, "delete")).status_code == 404


def test_a_therapist_reads_the_session_but_cannot_record(
    client_for: ClientFor, therapist: User, open_session: DosingSession
) -> None:
    client = client_for(therapist)
    assert client.get(open_session.get_absolute_url()).status_code == 200
    response = client.post(step(open_session, "complete"))
    assert response.status_code == 403
    open_session.refresh_from_db()
    assert open_session.status == "in_progress"


def test_a_session_of_another_patient_is_404(
    client_for: ClientFor, nurse: User, open_session: DosingSession, patient_b: Patient
) -> None:
    url = reverse("treatment:session_detail", args=[patient_b.pk, open_session.pk])
    assert client_for(nurse).get(url).status_code == 404


def test_the_dose_calculator_shows_its_working(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    response = client_for(nurse).post(
        step(open_session, "dose"),
        {
            "dose-weight_kg": "82.4",
            "dose-concentration_mg_per_ml": "10",
            "dose-bag_volume_ml": "100",
            "dose-infusion_minutes": "40",
        },
        headers=HTMX,
    )
    body = response.content.decode()
    assert "Dose: 82.4 kg × 0.500 mg/kg = 41.2 mg" in body
    assert "Volume to draw: 41.2 mg ÷ 10 mg/mL = 4.12 mL" in body
    assert "156.2 mL/h" in body


def test_a_double_submitted_start_draws_once(
    client_for: ClientFor, nurse: User, second_nurse: User,
    open_session: DosingSession, lot: KetamineLot,
) -> None:  # fmt: skip
    ready_to_dose(open_session, nurse, second_nurse)
    client = client_for(nurse)
    sent = {"start-lot": lot.pk, "seen": seen_on_page(client, open_session, "start")}
    first = client.post(step(open_session, "start"), sent, headers=HTMX)
    second = client.post(step(open_session, "start"), sent, headers=HTMX)
    assert b"Dose started" in first.content
    assert b"already started" in second.content
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("4965.0")


def test_the_nurse_cannot_co_sign_through_the_page(
    client_for: ClientFor, nurse: User, physician: User, dosed_session: DosingSession
) -> None:
    stop_infusion(dosed_session, physician)
    services.discharge_patient(
        request=request_by(physician), session=dosed_session,
        override_reason="test", by=physician,
    )  # fmt: skip
    client = client_for(nurse)
    client.post(step(dosed_session, "complete"))
    response = client.post(step(dosed_session, "sign"), headers=HTMX)
    assert b"Only a physician may co-sign" in response.content
    dosed_session.refresh_from_db()
    assert dosed_session.status == "completed"


def test_the_physician_prescribes_a_course(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    client = client_for(physician)
    url = reverse("treatment:course_create", args=[patient_a.pk])
    data = {
        "protocol": Protocol.objects.get(name=IV).pk, "indication": "depression",
        "phase": "induction", "prescribed_dose": "1.2", "planned_sessions": "6",
        "starts_on": timezone.localdate().isoformat(),
    }  # fmt: skip
    refused = client.post(url, data)
    assert b"at most 1.000 mg/kg" in refused.content
    assert not TreatmentCourse.objects.exists()
    response = client.post(url, {**data, "prescribed_dose": "0.5"})
    course = TreatmentCourse.objects.get()
    assert response["Location"] == course.get_absolute_url()
    assert course.prescriber == physician


def test_a_nurse_may_not_prescribe(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    url = reverse("treatment:course_create", args=[patient_a.pk])
    assert client_for(nurse).get(url).status_code == 403


def test_the_courses_tab_lists_doses_given(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    client = client_for(nurse)
    url = reverse("treatment:course_list", args=[dosed_session.patient_id])
    # Session, user, OTP device, clinic profile, permissions (2), the chart with its
    # care team, role groups, the audit write (4), the courses with their counts,
    # the alert badge and the chart's alerts: about 22 however many courses.
    with django_assert_max_num_queries(24):  # type: ignore[operator]
        response = client.get(url)
    assert b"1 of 6" in response.content


def test_the_register_report_lists_the_month_and_audits_patients(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession, client: Client
) -> None:
    response = client_for(nurse).get(
        reverse("treatment:register_report"),
        {"month": timezone.localdate().strftime("%Y-%m")},
    )
    body = response.content.decode()
    assert "Opening balance 0.0 mg · closing balance 4965.0 mg" in body
    assert dosed_session.patient.mrn in body
    assert AuditEvent.objects.filter(
        patient=dosed_session.patient,
        action="search",
        summary__startswith="Listed in the register report",
    ).exists()


def test_a_receipt_form_with_a_wrong_witness_password_keeps_the_entries(
    client_for: ClientFor, nurse: User, second_nurse: User
) -> None:
    data = {
        "drug": "ketamine", "product": "Ketamine HCl", "strength_mg_per_ml": "50",
        "vial_volume_ml": "10", "vials_received": "5", "supplier": "Synthetic",
        "lot_number": "L-9", "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "received_on": timezone.localdate().isoformat(), "witness": second_nurse.pk,
        "witness_password": "nope",
    }  # fmt: skip
    client = client_for(nurse)
    response = client.post(reverse("treatment:lot_receive"), data)
    assert b"password did not match" in response.content
    assert b'value="L-9"' in response.content
    assert not KetamineLot.objects.exists()
    response = client.post(
        reverse("treatment:lot_receive"), {**data, "witness_password": PASSWORD}
    )
    assert KetamineLot.objects.get().balance_mg == Decimal("2500.0")
    assert NORMAL_VITALS
