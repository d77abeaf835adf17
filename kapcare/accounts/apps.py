from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "kapcare.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every migrate (and every test-database flush, which empties the tables a
    data migration filled), make the role groups match roles.py again."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from kapcare.accounts.services import sync_role_groups

    # post_migrate reaches apps in INSTALLED_APPS order; the later apps' permissions
    # must exist before the groups can hold them.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups(using=using)
