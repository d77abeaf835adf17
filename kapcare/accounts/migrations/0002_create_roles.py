"""Create the clinic's role groups with their permissions.

A frozen copy of kapcare.accounts.roles.ROLE_PERMISSIONS as of this migration
(migrations never import app code); tests/accounts/test_roles.py checks that the
two still agree.
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

ROLES = {
    "Clinic admin": ["accounts.manage_staff", "audit.view_auditevent", "website.change_clinicprofile"],
    "Physician": _CLINICAL,
    "Nurse": _CLINICAL,
    "Therapist": _CLINICAL,
    "Front desk": _DEMOGRAPHICS,
    "Patient": [],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apply_roles(apps, ROLES)


def apply_roles(apps: Apps, roles: dict[str, list[str]]) -> None:
    """Give each role group exactly `roles[name]` (later migrations reuse this)."""
    # Permissions are normally created after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True  # type: ignore[assignment]  # create_permissions only tests truthiness
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("patients", "0001_initial"),
        ("audit", "0001_initial"),
        ("website", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
