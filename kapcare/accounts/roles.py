"""The clinic's roles and what each may do (groups created by migrations 0002-0008).

A migration keeps its own frozen copy of this table; tests/accounts/test_roles.py
fails when the two drift apart, so a change here needs a new migration.
"""

from django.db import models


class Role(models.TextChoices):
    CLINIC_ADMIN = "Clinic admin", "Clinic admin"
    PHYSICIAN = "Physician", "Physician"
    NURSE = "Nurse", "Nurse"
    THERAPIST = "Therapist", "Therapist"
    FRONT_DESK = "Front desk", "Front desk"
    PATIENT = "Patient", "Patient"


STAFF_ROLES = frozenset(set(Role) - {Role.PATIENT})

_DEMOGRAPHICS = (
    "patients.view_patient",
    "patients.add_patient",
    "patients.change_patient",
    "patients.invite_patient",
)
_CLINICAL = (*_DEMOGRAPHICS, "patients.view_clinical_record")
_ROTA = ("safety.add_oncallshift", "safety.delete_oncallshift")
_DOSING = (
    "treatment.add_dosingsession",
    "treatment.view_ketaminelot",
    "treatment.add_ketaminelot",
)
_THERAPY_NOTES = ("treatment.view_psychotherapy_notes",)
_BOOKING = ("scheduling.add_appointment",)
_WRITING = ("website.add_post", "website.change_post")
_SITE_EDITING = (
    *_WRITING,
    "website.delete_post",
    "website.change_sitepage",
    "website.change_staffprofile",
)
_PRESCRIBING = (
    "treatment.add_treatmentcourse",
    "treatment.sign_dosingsession",
    "treatment.change_protocol",
)

_OUTCOMES = ("outcomes.view_clinic_outcomes",)
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.CLINIC_ADMIN: (
        "accounts.manage_staff",
        "audit.view_auditevent",
        "website.change_clinicprofile",
        *_ROTA,
        *_SITE_EDITING,
        *_OUTCOMES,
        "outcomes.export_identifiable",
    ),
    Role.PHYSICIAN: (
        *_CLINICAL,
        *_ROTA,
        *_DOSING,
        *_PRESCRIBING,
        *_THERAPY_NOTES,
        *_BOOKING,
        *_WRITING,
        *_OUTCOMES,
    ),
    Role.NURSE: (*_CLINICAL, *_DOSING, *_BOOKING),
    Role.THERAPIST: (
        *_CLINICAL,
        "treatment.add_integrationsession",
        *_THERAPY_NOTES,
        *_BOOKING,
        *_WRITING,
    ),
    Role.FRONT_DESK: (*_DEMOGRAPHICS, *_BOOKING),
    Role.PATIENT: (),
}
