"""Physicians and the clinic admin see the clinic outcome dashboard; the clinic
admin may also export identifiable cohort rows (with a reason).

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

_OUTCOMES = ["outcomes.view_clinic_outcomes"]

ROLES = {
    "Clinic admin": ["accounts.manage_staff", "audit.view_auditevent", "website.change_clinicprofile", *_ROTA, *_SITE_EDITING, *_OUTCOMES, "outcomes.export_identifiable"],
    "Physician": [*_CLINICAL, *_ROTA, *_DOSING, *_PRESCRIBING, *_THERAPY_NOTES, *_BOOKING, *_WRITING, *_OUTCOMES],
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
        ("accounts", "0007_site_editing_permissions"),
        ("outcomes", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
