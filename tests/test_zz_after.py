import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db(transaction=True)
def test_roles_still_there() -> None:
    assert Group.objects.count() == 6
    assert Group.objects.get(name="Nurse").permissions.count() == 5
