"""Clinicians write blog posts; clinic admins also edit the site's pages and team.

A frozen copy of kapcare.accounts.roles.ROLE_PERMISSIONS as of this migration;
tests/accounts/test_roles.py checks that the newest copy agrees with the code.
"""

import importlib

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_DEMOGRAPHICS = [
    "patients.view_patient",
    "patients.add_patient",
    "patients.change_patient",
    "patients.invite_patient",
]
_BOOKING = ["scheduling.add_appointment"]
_CLINICAL = [*_DEMOGRAPHICS, "patients.view_clinical_record"]
_ROTA = ["safety.add_oncallshift", "safety.delete_oncallshift"]
_DOSING = [
    "treatment.add_dosingsession",
    "treatment.view_ketaminelot",
    "treatment.add_ketaminelot",
]
_THERAPY_NOTES = ["treatment.view_psychotherapy_notes"]
_PRESCRIBING = [
    "treatment.add_treatmentcourse",
    "treatment.sign_dosingsession",
    "treatment.change_protocol",
]
_WRITING = ["website.add_post", "website.change_post"]
_SITE_EDITING = [
    *_WRITING,
    "website.delete_post",
    "website.change_sitepage",
    "website.change_staffprofile",
]

ROLES = {
    "Clinic admin": ["accounts.manage_staff", "audit.view_auditevent", "website.change_clinicprofile", *_ROTA, *_SITE_EDITING],
    "Physician": [*_CLINICAL, *_ROTA, *_DOSING, *_PRESCRIBING, *_THERAPY_NOTES, *_BOOKING, *_WRITING],
    "Nurse": [*_CLINICAL, *_DOSING, *_BOOKING],
    "Therapist": [*_CLINICAL, "treatment.add_integrationsession", *_THERAPY_NOTES, *_BOOKING, *_WRITING],
    "Front desk": [*_DEMOGRAPHICS, *_BOOKING],
    "Patient": [],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    importlib.import_module("kapcare.accounts.migrations.0002_create_roles").apply_roles(
        apps, ROLES
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_booking_permissions"),
        ("website", "0006_blog_and_pages"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
