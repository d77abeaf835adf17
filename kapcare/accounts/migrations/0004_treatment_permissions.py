"""Physicians prescribe courses and co-sign dosing sessions; nurses and physicians
run sessions and keep the ketamine register.

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
_CLINICAL = [*_DEMOGRAPHICS, "patients.view_clinical_record"]
_ROTA = ["safety.add_oncallshift", "safety.delete_oncallshift"]
_DOSING = [
    "treatment.add_dosingsession",
    "treatment.view_ketaminelot",
    "treatment.add_ketaminelot",
]
_PRESCRIBING = [
    "treatment.add_treatmentcourse",
    "treatment.sign_dosingsession",
    "treatment.change_protocol",
]

ROLES = {
    "Clinic admin": ["accounts.manage_staff", "audit.view_auditevent", "website.change_clinicprofile", *_ROTA],
    "Physician": [*_CLINICAL, *_ROTA, *_DOSING, *_PRESCRIBING],
    "Nurse": [*_CLINICAL, *_DOSING],
    "Therapist": _CLINICAL,
    "Front desk": _DEMOGRAPHICS,
    "Patient": [],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    importlib.import_module("kapcare.accounts.migrations.0002_create_roles").apply_roles(
        apps, ROLES
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_on_call_rota_permissions"),
        ("treatment", "0001_courses_sessions_register"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
