"""Role x URL matrix: every URL pattern in the project has a declared policy."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsultationRequest,
    EligibilityAssessment,
    Referral,
)
from kapcare.measures.models import (
    QuestionnaireAssignment,
    QuestionnaireLink,
    QuestionnaireResponse,
)
from kapcare.measures.services import (
    send_questionnaire_link,
    submit_questionnaire_response,
)
from kapcare.patients.models import Patient
from kapcare.safety.models import OnCallShift, SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.scheduling.models import Appointment, AppointmentType, BookingRequest
from kapcare.treatment import services as treatment_services
from kapcare.treatment.models import (
    DosingSession,
    IntegrationSession,
    KetamineLot,
    Protocol,
    TreatmentCourse,
)
from kapcare.website.models import Post, StaffProfile
from tests.conftest import make_staff, sign_in
from tests.factories import PatientFactory, UserFactory
from tests.treatment.conftest import IV, receive

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "patient",
    "front_desk",
    "therapist",
    "nurse",
    "physician",
    "clinic_admin",
]
CLINICAL = {"therapist", "nurse", "physician"}
PATIENT_DEMOGRAPHICS = {"front_desk"} | CLINICAL
STAFF = PATIENT_DEMOGRAPHICS | {"clinic_admin"}
DOSING = {"nurse", "physician"}
BOOKERS = {"front_desk"} | CLINICAL
WRITERS = {"physician", "therapist", "clinic_admin"}

# url name -> (method, personas allowed). Everyone else: anonymous goes to sign-in, others 403.
PROTECTED: dict[str, tuple[str, set[str]]] = {
    "patients:patient_list": ("get", PATIENT_DEMOGRAPHICS),
    "patients:patient_create": ("get", PATIENT_DEMOGRAPHICS),
    "patients:patient_detail": ("get", PATIENT_DEMOGRAPHICS),
    "patients:patient_edit": ("get", PATIENT_DEMOGRAPHICS),
    "patients:patient_history": ("get", PATIENT_DEMOGRAPHICS),
    "patients:patient_invite": ("post", PATIENT_DEMOGRAPHICS),
    "accounts:staff_list": ("get", {"clinic_admin"}),
    "accounts:staff_create": ("get", {"clinic_admin"}),
    "accounts:staff_edit": ("get", {"clinic_admin"}),
    "accounts:staff_reset_two_factor": ("post", {"clinic_admin"}),
    "accounts:staff_send_setup_link": ("post", {"clinic_admin"}),
    "audit:event_list": ("get", {"clinic_admin"}),
    "outcomes:dashboard": ("get", {"physician", "clinic_admin"}),
    "outcomes:cohort_csv": ("post", {"physician", "clinic_admin"}),
    "outcomes:progress_report": ("get", {"physician"}),
    "website:clinic_settings": ("get", {"clinic_admin"}),
    "measures:instrument_list": ("get", {"front_desk", "clinic_admin"} | CLINICAL),
    "measures:instrument_detail": ("get", {"front_desk", "clinic_admin"} | CLINICAL),
    "measures:patient_measures": ("get", CLINICAL),
    "measures:response_create": ("get", CLINICAL),
    "measures:link_send": ("post", CLINICAL),
    "measures:assignment_create": ("post", CLINICAL),
    "measures:assignment_stop": ("post", CLINICAL),
    "measures:link_withdraw": ("post", CLINICAL),
    "measures:response_detail": ("get", CLINICAL),
    "safety:alert_queue": ("get", CLINICAL),
    "safety:alert_acknowledge": ("post", CLINICAL),
    "safety:alert_resolve": ("post", CLINICAL),
    "safety:risk_flag": ("post", CLINICAL),
    "safety:on_call": ("get", STAFF),
    "safety:caseload": ("get", CLINICAL),
    "safety:safety_plan": ("get", CLINICAL),
    "safety:safety_plan_edit": ("get", CLINICAL),
    "safety:safety_plan_print": ("get", CLINICAL),
    "portal:safety_plan": ("get", {"patient"}),
    "portal:safety_plan_print": ("get", {"patient"}),
    "safety:on_call_add": ("post", {"physician", "clinic_admin"}),
    "safety:on_call_remove": ("post", {"physician", "clinic_admin"}),
    "intake:board": ("get", PATIENT_DEMOGRAPHICS),
    "intake:request_detail": ("get", PATIENT_DEMOGRAPHICS),
    "intake:request_status": ("post", PATIENT_DEMOGRAPHICS),
    "intake:request_convert": ("get", PATIENT_DEMOGRAPHICS),
    "intake:referral_create": ("get", PATIENT_DEMOGRAPHICS),
    "intake:referral_letter": ("get", CLINICAL),
    "intake:consent_documents": ("get", {"clinic_admin"}),
    "intake:consent_paper": ("post", CLINICAL),
    "intake:consent_scan": ("get", CLINICAL),
    "portal:consent": ("get", {"patient"}),
    "intake:assessment_list": ("get", CLINICAL),
    "intake:assessment_edit": ("get", CLINICAL),
    "intake:assessment_detail": ("get", CLINICAL),
    "intake:assessment_addendum": ("post", CLINICAL),
    "portal:home": ("get", {"patient"}),
    "portal:access_log": ("get", {"patient"}),
    "portal:my_progress": ("get", {"patient"}),
    "portal:questionnaire_fill": ("get", {"patient"}),
    "treatment:course_list": ("get", CLINICAL),
    "treatment:course_create": ("get", {"physician"}),
    "treatment:course_detail": ("get", CLINICAL),
    "treatment:course_status": ("post", {"physician"}),
    "treatment:session_start": ("post", DOSING),
    "treatment:session_detail": ("get", CLINICAL),
    "treatment:session_step": ("post", DOSING),
    "treatment:register": ("get", DOSING),
    "treatment:register_report": ("get", DOSING),
    "treatment:lot_receive": ("get", DOSING),
    "treatment:lot_detail": ("get", DOSING),
    "treatment:lot_waste": ("get", DOSING),
    "treatment:lot_count": ("get", DOSING),
    "treatment:protocol_list": ("get", CLINICAL),
    "treatment:protocol_edit": ("get", {"physician"}),
    "treatment:integration_create": ("get", {"therapist"}),
    "treatment:integration_detail": ("get", CLINICAL),
    "treatment:integration_edit": ("get", {"therapist"}),
    "treatment:timeline": ("get", CLINICAL),
    "portal:homework": ("get", {"patient"}),
    "portal:mindfulness": ("get", {"patient"}),
    "scheduling:day_view": ("get", BOOKERS),
    "scheduling:week_view": ("get", BOOKERS),
    "scheduling:request_queue": ("get", BOOKERS),
    "scheduling:request_answer": ("post", BOOKERS),
    "scheduling:calendar_feed": ("get", BOOKERS),
    "scheduling:patient_appointments": ("get", PATIENT_DEMOGRAPHICS),
    "scheduling:appointment_create": ("get", BOOKERS),
    "scheduling:series_create": ("get", BOOKERS),
    "scheduling:appointment_detail": ("get", BOOKERS),
    "scheduling:appointment_change": ("post", BOOKERS),
    "scheduling:staff_hours": ("get", {"clinic_admin"}),
    "portal:appointments": ("get", {"patient"}),
    "scheduling:staff_hours_edit": ("get", {"clinic_admin"}),
    "scheduling:consultation_book": ("get", BOOKERS),
    "treatment:pk_compare": ("get", {"physician"}),
    "website:editor_home": ("get", WRITERS),
    "website:post_create": ("get", WRITERS),
    "website:post_edit": ("get", WRITERS),
    "website:post_preview": ("get", WRITERS),
    "website:markdown_preview": ("post", WRITERS),
    "website:post_delete": ("get", {"clinic_admin"}),
    "website:page_edit": ("get", {"clinic_admin"}),
    "website:profile_create": ("get", {"clinic_admin"}),
    "website:profile_edit": ("get", {"clinic_admin"}),
    "fhir:client_list": ("get", {"clinic_admin"}),
    "fhir:client_revoke": ("post", {"clinic_admin"}),
    "scheduling:contact_preference": ("get", BOOKERS),
    "portal:contact_preference": ("get", {"patient"}),
    "portal:book": ("get", {"patient"}),
}
# Reachable by anyone signed in (each routes people by role).
SIGNED_IN = {
    "accounts:home",
    "accounts:otp_enrol",
    "accounts:otp_verify",
    "accounts:logout",
}
# Public pages: no sign-in, no patient data.
PUBLIC = {
    "healthz", "website:home", "website:clinic_logo", "accounts:login",
    "website:services", "website:team", "website:faq", "website:locations",
    "website:contact", "website:privacy", "website:post_list", "website:rss_feed",
    "website:atom_feed", "website:sitemap", "website:robots_txt",
    "website:category_posts", "website:tag_posts", "website:post_detail",
    "website:image", "fhir:metadata",
    "accounts:password_reset", "accounts:password_reset_done",
    "accounts:password_reset_confirm", "accounts:password_reset_complete",
    "portal:invitation_accept",
    "measures:link_fill",
    "scheduling:calendar_ics", "scheduling:opt_out",
    "intake:request_create", "intake:request_done", "intake:self_check",
}  # fmt: skip


def _names(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _names(entry, ns)
        elif entry.name:
            yield prefix + entry.name


# The FHIR API: a bearer token, never a session (see tests/fhir/).
TOKEN_ONLY = {
    "fhir:search", "fhir:read", "fhir:everything", "fhir:unknown", "fhir:export",
    "fhir:export_patients", "fhir:export_group", "fhir:export_status", "fhir:export_file",
}  # fmt: skip


def test_every_url_in_the_project_has_a_policy(
    record_property: Callable[[str, object], None],
) -> None:
    declared = set(PROTECTED) | SIGNED_IN | PUBLIC | TOKEN_ONLY
    assert set(_names(get_resolver())) == declared
    record_property("security: URL patterns with a declared policy", len(declared))


@pytest.fixture
def world(db: None) -> dict[str, object]:
    patient = PatientFactory.create()
    patient_user = UserFactory.create(kind=User.Kind.PATIENT, roles=[Role.PATIENT])
    Patient.objects.filter(pk=patient.pk).update(user=patient_user)
    people: dict[str, User | None] = {
        "anonymous": None,
        "patient": patient_user,
        "front_desk": make_staff(Role.FRONT_DESK),
        "therapist": make_staff(Role.THERAPIST),
        "nurse": make_staff(Role.NURSE),
        "physician": make_staff(Role.PHYSICIAN),
        "clinic_admin": make_staff(Role.CLINIC_ADMIN),
    }
    other_patient = PatientFactory.create(legal_family_name="Quimbyfrost")
    raise_safety_alert(
        request=None,
        patient=other_patient,
        level="high",
        trigger="manual",
        reason="test alert",
    )
    staff = people["nurse"]
    assert staff is not None
    QuestionnaireAssignment.objects.create(
        patient=other_patient, instrument="phq9", repeat="weekly",
        starts_on=timezone.localdate(), assigned_by=staff,
    )  # fmt: skip
    submit_questionnaire_response(
        request=None, patient=other_patient, instrument="gad7", answers=[1] * 7,
        source="paper", submission_key="matrix-gad7", entered_by=staff,
    )  # fmt: skip
    own_link = send_questionnaire_link(
        request=None, patient=patient, instrument="gad7", sent_by=staff
    )
    other_link = send_questionnaire_link(
        request=None, patient=other_patient, instrument="phq9", sent_by=staff
    )
    physician = people["physician"]
    assert physician is not None
    OnCallShift.objects.create(
        physician=physician, starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=12), created_by=physician,
    )  # fmt: skip
    consult = ConsultationRequest.objects.create(
        given_name="Quimby", family_name="Request", email="q@example.com",
        preferred_contact="email", consent_to_contact_at=timezone.now(),
        consent_wording="I agree", submission_key="matrix",
    )  # fmt: skip
    name = storages["private"].save("referrals/matrix.pdf", ContentFile(b"%PDF-1.4"))
    Referral.objects.create(
        request=consult, clinician_name="Dr. Matrix", reason="test", letter=name,
        letter_content_type="application/pdf", received_by=staff,
    )  # fmt: skip
    document = ConsentDocument.objects.create(
        version=1, title="Consent", body="Text", created_by=staff
    )
    scan = storages["private"].save("consents/matrix.pdf", ContentFile(b"%PDF-1.4"))
    signature = ConsentSignature.objects.create(
        patient=other_patient, document=document, method="paper",
        signed_at=timezone.now(), scan=scan, scan_content_type="application/pdf",
    )  # fmt: skip
    assessment = EligibilityAssessment.objects.create(
        patient=other_patient, created_by=staff
    )
    course = treatment_services.create_course(
        request=None, patient=other_patient,
        protocol=Protocol.objects.get(name=IV), indication="depression",
        phase="induction", prescribed_dose=Decimal("0.5"), planned_sessions=6,
        starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    session = treatment_services.start_session(
        request=None,
        course=course,
        by=physician,
    )
    lot = receive(staff, physician)
    therapist = people["therapist"]
    assert therapist is not None
    integration = IntegrationSession.objects.create(
        patient=other_patient, dosing_session=session, therapist=therapist,
        held_on=timezone.localdate(), homework="Walk", psychotherapy_note="Private",
    )  # fmt: skip
    appointment = Appointment.objects.create(
        patient=other_patient,
        appointment_type=AppointmentType.objects.get(seed_key="integration"),
        clinician=therapist, starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1, hours=1), created_by=therapist,
    )  # fmt: skip
    author = StaffProfile.objects.create(name="Dr. Matrix")
    post = Post.objects.create(
        title="Matrix", slug="matrix", author=author, excerpt="x", body="x",
        status="draft",
    )  # fmt: skip
    return {
        "post": post,
        "people": people, "patient": other_patient, "own_link": own_link,
        "other_link": other_link,
        "appointment": appointment,
        "consult": consult, "signature": signature, "assessment": assessment,
        "course": course, "session": session, "lot": lot, "integration": integration,
    }  # fmt: skip


def _url(name: str, world: dict[str, object]) -> str:
    other: Patient = world["patient"]  # type: ignore[assignment]
    people: dict[str, User] = world["people"]  # type: ignore[assignment]
    if name.startswith("patients:") and name not in {
        "patients:patient_list",
        "patients:patient_create",
    }:
        return reverse(name, args=[other.pk])
    if name == "measures:instrument_detail":
        return reverse(name, args=["phq9"])
    if name in {
        "measures:patient_measures",
        "outcomes:progress_report",
        "safety:risk_flag",
        "measures:link_send",
        "measures:assignment_create",
        "safety:safety_plan",
        "safety:safety_plan_edit",
        "safety:safety_plan_print",
    }:
        return reverse(name, args=[other.pk])
    if name == "measures:assignment_stop":
        assignment = QuestionnaireAssignment.objects.get(patient=other)
        return reverse(name, args=[other.pk, assignment.pk])
    if name == "measures:link_withdraw":
        other_link: QuestionnaireLink = world["other_link"]  # type: ignore[assignment]
        return reverse(name, args=[other.pk, other_link.pk])
    if name == "measures:response_detail":
        response = QuestionnaireResponse.objects.get(patient=other)
        return reverse(name, args=[other.pk, response.pk])
    if name == "portal:questionnaire_fill":
        link: QuestionnaireLink = world["own_link"]  # type: ignore[assignment]
        return reverse(name, args=[link.pk])
    if name == "intake:consent_scan":
        signature = world["signature"]
        assert isinstance(signature, ConsentSignature)
        return reverse(name, args=[signature.pk])
    if name in {"intake:consent_paper", "intake:assessment_list"}:
        return reverse(name, args=[other.pk])
    if name.startswith("intake:assessment_"):
        assessment = world["assessment"]
        assert isinstance(assessment, EligibilityAssessment)
        return reverse(name, args=[other.pk, assessment.pk])
    consult = world["consult"]
    assert isinstance(consult, ConsultationRequest)
    if name == "scheduling:consultation_book":
        return reverse(name, args=[consult.pk])
    if name in {"website:post_edit", "website:post_preview", "website:post_delete"}:
        return reverse(name, args=[world["post"].pk])  # type: ignore[attr-defined]
    if name == "fhir:client_revoke":
        from kapcare.fhir.models import ApiClient

        client = ApiClient.objects.create(
            name="Matrix", kind="system", token_hash=f"matrix{people['nurse'].pk}",
            token_hint="kc_", created_by=people["clinic_admin"],
        )  # fmt: skip
        return reverse(name, args=[client.pk])
    if name == "website:page_edit":
        return reverse(name, args=["faq"])
    if name == "website:profile_edit":
        return reverse(name, args=[world["post"].author_id])  # type: ignore[attr-defined]
    if name == "intake:referral_letter" or (
        name.startswith("intake:request_")
        and name not in {"intake:request_create", "intake:request_done"}
    ):
        return reverse(name, args=[consult.pk])
    if name == "safety:on_call_remove":
        return reverse(name, args=[OnCallShift.objects.get().pk])
    if name == "measures:response_create":
        return reverse(name, args=[other.pk, "phq9"])
    if name in {"safety:alert_acknowledge", "safety:alert_resolve"}:
        alert = SafetyAlert.objects.get(patient=other)
        return reverse(name, args=[alert.pk])
    if name.startswith("treatment:"):
        return _treatment_url(name, world)
    if name in {
        "scheduling:patient_appointments",
        "scheduling:appointment_create",
        "scheduling:series_create",
        "scheduling:contact_preference",
    }:
        return reverse(name, args=[other.pk])
    if name == "scheduling:request_answer":
        asked = BookingRequest.objects.create(
            patient=other, kind="new", submission_key=f"matrix-{people['nurse'].pk}",
            appointment_type=AppointmentType.objects.get(seed_key="follow_up"),
        )  # fmt: skip
        return reverse(name, args=[asked.pk])
    if name == "scheduling:staff_hours_edit":
        return reverse(name, args=[people["nurse"].pk])
    if name == "scheduling:appointment_detail":
        return reverse(name, args=[world["appointment"].pk])  # type: ignore[attr-defined]
    if name == "scheduling:appointment_change":
        return reverse(name, args=[world["appointment"].pk, "check-in"])  # type: ignore[attr-defined]
    if name in {
        "accounts:staff_edit",
        "accounts:staff_reset_two_factor",
        "accounts:staff_send_setup_link",
    }:
        return reverse(name, args=[people["physician"].pk])
    return reverse(name)


def _treatment_url(name: str, world: dict[str, object]) -> str:
    other: Patient = world["patient"]  # type: ignore[assignment]
    course: TreatmentCourse = world["course"]  # type: ignore[assignment]
    session: DosingSession = world["session"]  # type: ignore[assignment]
    lot: KetamineLot = world["lot"]  # type: ignore[assignment]
    integration: IntegrationSession = world["integration"]  # type: ignore[assignment]
    args: dict[str, list[object]] = {
        "treatment:course_list": [other.pk],
        "treatment:course_create": [other.pk],
        "treatment:course_detail": [other.pk, course.pk],
        "treatment:course_status": [other.pk, course.pk],
        "treatment:session_start": [other.pk, course.pk],
        "treatment:session_detail": [other.pk, session.pk],
        "treatment:session_step": [other.pk, session.pk, "complete"],
        "treatment:lot_detail": [lot.pk],
        "treatment:lot_waste": [lot.pk],
        "treatment:lot_count": [lot.pk],
        "treatment:protocol_edit": [Protocol.objects.get(name=IV).pk],
        "treatment:integration_create": [other.pk, session.pk],
        "treatment:integration_detail": [other.pk, integration.pk],
        "treatment:integration_edit": [other.pk, integration.pk],
        "treatment:timeline": [other.pk],
        "treatment:pk_compare": [other.pk],
    }
    return reverse(name, args=args.get(name, []))


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(PROTECTED))
def test_role_url_matrix(
    world: dict[str, object], persona: str, name: str,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    record_property("security: access matrix requests (URL x persona)", 1)
    method, allowed = PROTECTED[name]
    user: User | None = world["people"][persona]  # type: ignore[index]
    client = sign_in(Client(), user) if user else Client()
    denied_before = AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED
    ).count()
    response = getattr(client, method)(_url(name, world))
    if persona == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    elif persona in allowed:
        assert response.status_code in {200, 302}
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == 403
        other: Patient = world["patient"]  # type: ignore[assignment]
        assert other.legal_family_name.encode() not in response.content
        denied_after = AuditEvent.objects.filter(
            action=AuditEvent.Action.ACCESS_DENIED
        ).count()
        assert denied_after == denied_before + 1
        assert not AuditEvent.objects.filter(
            patient=other, action=AuditEvent.Action.VIEW
        ).exists()


@pytest.mark.parametrize(
    "name",
    sorted(
        PUBLIC
        - {
            "accounts:password_reset_confirm",
            "portal:invitation_accept",
            "measures:link_fill",
            "scheduling:calendar_ics",
            "scheduling:opt_out",
            "website:category_posts",
            "website:tag_posts",
            "website:post_detail",
            "website:image",
        }
    ),
)
def test_public_pages_answer_without_sign_in(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code in {200, 404}  # the logo is 404 until one is uploaded


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_fhir_api_ignores_sessions_and_asks_for_a_token(
    world: dict[str, object], persona: str
) -> None:
    user: User | None = world["people"][persona]  # type: ignore[index]
    client = sign_in(Client(), user) if user else Client()
    other: Patient = world["patient"]  # type: ignore[assignment]
    for url in (
        reverse("fhir:search", args=["Patient"]),
        reverse("fhir:read", args=["Patient", other.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json()["resourceType"] == "OperationOutcome"
        assert other.legal_family_name.encode() not in response.content
