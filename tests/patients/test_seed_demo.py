import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.services import verify_audit_chain
from kapcare.patients.healthcard import luhn_is_valid
from kapcare.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_it_makes_a_clinic_with_every_role_and_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo", "--patients", "40")
    out = capsys.readouterr().out
    for role in Role:
        assert User.objects.filter(groups__name=role).exists(), role
        assert role.label in out
    assert set(Patient.objects.values_list("status", flat=True)) == set(
        Patient.Status.values
    )
    assert all(
        luhn_is_valid(n)
        for n in Patient.objects.values_list("health_number", flat=True)
    )
    assert User.objects.get(email="patient@demo.kapcare.test").patient is not None
    assert verify_audit_chain() == (41, None)  # 40 charts + the portal link


def test_a_second_run_adds_nothing_twice() -> None:
    call_command("seed_demo", "--patients", "30", "--quiet")
    counts = (Patient.objects.count(), User.objects.count())
    call_command("seed_demo", "--patients", "30", "--quiet")
    assert (Patient.objects.count(), User.objects.count()) == counts == (30, 6)


def test_asking_for_more_tops_up() -> None:
    call_command("seed_demo", "--patients", "10", "--quiet")
    call_command("seed_demo", "--patients", "25", "--quiet")
    assert Patient.objects.count() == 25
    assert Patient.objects.values("mrn").distinct().count() == 25


def test_it_refuses_production(settings: Settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", "--patients", "1")
