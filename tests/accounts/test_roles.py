import importlib

import pytest
from django.contrib.auth.models import Group

from kapcare.accounts.roles import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_with_exactly_its_permissions() -> None:
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        stored = {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
        }
        assert stored == set(perms), role


def test_the_migration_copy_matches_the_code() -> None:
    migration = importlib.import_module(
        "kapcare.accounts.migrations.0008_outcome_permissions"
    )
    assert {Role(k): tuple(v) for k, v in migration.ROLES.items()} == ROLE_PERMISSIONS


def test_front_desk_has_no_clinical_permission() -> None:
    assert "patients.view_clinical_record" not in ROLE_PERMISSIONS[Role.FRONT_DESK]
    assert not any(
        p.startswith("patients.") for p in ROLE_PERMISSIONS[Role.CLINIC_ADMIN]
    )


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_roles() -> None:
    assert Group.objects.count() == len(ROLE_PERMISSIONS)


def test_the_roles_are_back_after_a_flush() -> None:
    """The flush after the test above empties auth_group; post_migrate refills it."""
    test_every_role_is_a_group_with_exactly_its_permissions()
