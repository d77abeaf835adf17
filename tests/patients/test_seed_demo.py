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
    checked, broken = verify_audit_chain()
    assert broken is None
    assert checked > 41  # 40 charts, the portal link, then the demo measures' events
    assert "new dosing sessions" in out


def test_the_demo_treatment_is_real_and_consistent() -> None:
    """Courses run through the services: signed sessions, a register that balances,
    homework for the portal patient, one session open today."""
    from decimal import Decimal

    from kapcare.treatment.models import (
        DosingSession,
        IntegrationSession,
        KetamineLot,
        MindfulnessPractice,
    )

    call_command("seed_demo", "--patients", "20", "--quiet")
    sessions = DosingSession.objects.all()
    assert sessions.filter(status="signed").count() >= 6
    assert sessions.filter(status="in_progress").count() == 1
    lot = KetamineLot.objects.get()
    given = sum(s.dose_mg for s in sessions if s.dose_mg and s.dose_started_at)
    assert lot.balance_mg == Decimal("10000.0") - given
    portal = Patient.objects.get(user__email="patient@demo.kapcare.test")
    assert (
        IntegrationSession.objects.filter(
            patient=portal, signed_at__isnull=False
        ).count()
        == 3
    )
    assert MindfulnessPractice.objects.filter(patient=portal).count() > 10
    from kapcare.scheduling.models import Appointment, Resource

    assert Appointment.objects.filter(patient=portal).count() == 2
    assert Resource.objects.filter(kind="chair").count() == 3
    call_command("seed_demo", "--patients", "20", "--quiet")
    assert DosingSession.objects.count() == sessions.count()
    assert Appointment.objects.count() == 2


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


def test_the_demo_clinic_has_living_measures_once(db: None) -> None:
    from kapcare.measures.demo import seed_demo_measures
    from kapcare.measures.models import MeasureSummary, QuestionnaireResponse
    from kapcare.patients.demo import seed_demo
    from kapcare.safety.models import OnCallShift, SafetyAlert, SafetyPlanVersion

    seed_demo(patients=60)
    stored = seed_demo_measures()
    assert stored == QuestionnaireResponse.objects.count() > 0
    assert MeasureSummary.objects.filter(instrument="phq9").count() == stored // 20
    assert SafetyAlert.objects.filter(trigger="relapse").exists()
    assert SafetyAlert.objects.filter(reason__contains="suicidal thoughts").exists()
    assert SafetyPlanVersion.objects.filter(patient__user__isnull=False).exists()
    assert OnCallShift.objects.count() == 1
    assert seed_demo_measures() == 0
    assert OnCallShift.objects.count() == 1
