"""Clinic admins and physicians keep the on-call rota (safety.OnCallShift).

A frozen copy of kapcare.accounts.roles.ROLE_PERMISSIONS as of this migration;
tests/accounts/test_roles.py checks that the newest copy agrees with the code.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
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

ROLES = {
    "Clinic admin": ["accounts.manage_staff", "audit.view_auditevent", "website.change_clinicprofile", *_ROTA],
    "Physician": [*_CLINICAL, *_ROTA],
    "Nurse": _CLINICAL,
    "Therapist": _CLINICAL,
    "Front desk": _DEMOGRAPHICS,
    "Patient": [],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True  # type: ignore[assignment]  # create_permissions only tests truthiness
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_create_roles"),
        ("safety", "0002_escalation"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
