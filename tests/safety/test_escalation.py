"""Unacknowledged alerts escalate to the on-call physician, then the clinic admins;
every message is recorded once, survives a restarted worker, and is audited."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.clock.jobs import TICK_PATH
from kapcare.clock.tasks import clinic_tick
from kapcare.lib import sms
from kapcare.patients.models import Patient
from kapcare.safety import escalation
from kapcare.safety.escalation import escalate_overdue_alerts
from kapcare.safety.models import AlertNotification, OnCallShift, SafetyAlert
from kapcare.safety.services import acknowledge_safety_alert, raise_safety_alert
from kapcare.website.models import get_clinic_profile
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db

# A Tuesday morning in Toronto, clear of weekends and holidays.
START = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


def _alert(patient: Patient, level: str = "high") -> SafetyAlert:
    return raise_safety_alert(
        request=None, patient=patient, level=level, trigger="manual", reason="test"
    )


def _on_call(physician: User, phone: str = "+14165550199") -> OnCallShift:
    return OnCallShift.objects.create(
        physician=physician,
        starts_at=START - dt.timedelta(hours=1),
        ends_at=START + dt.timedelta(days=7),
        page_phone=phone,
        created_by=physician,
    )


def test_a_high_alert_pages_on_call_at_one_hour_then_the_admins(
    physician: User, clinic_admin: User, patient_a: Patient
) -> None:
    _on_call(physician)
    with time_machine.travel(START, tick=False):
        alert = _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(minutes=59), tick=False):
        assert escalate_overdue_alerts() == 0
    with time_machine.travel(START + dt.timedelta(minutes=60), tick=False):
        assert escalate_overdue_alerts() == 2
        assert escalate_overdue_alerts() == 0
    assert [m.to for m in mail.outbox] == [[physician.email]]
    assert patient_a.legal_family_name not in mail.outbox[0].body
    assert reverse("safety:alert_queue") in mail.outbox[0].body
    assert [m.to for m in sms.outbox] == ["+14165550199"]
    with time_machine.travel(START + dt.timedelta(minutes=119), tick=False):
        assert escalate_overdue_alerts() == 0
    with time_machine.travel(START + dt.timedelta(minutes=120), tick=False):
        assert escalate_overdue_alerts() == 1
    assert mail.outbox[-1].to == [clinic_admin.email]
    stages = list(
        alert.notifications.order_by("created_at").values_list(
            "stage", "channel", "status"
        )
    )
    assert stages == [
        ("on_call", "email", "sent"),
        ("on_call", "sms", "sent"),
        ("admin", "email", "sent"),
    ]
    audited = AuditEvent.objects.filter(
        patient=patient_a, summary__startswith="Escalated unacknowledged high alert"
    )
    assert audited.count() == 3


def test_an_acknowledged_alert_never_escalates(
    physician: User, nurse: User, patient_a: Patient
) -> None:
    _on_call(physician)
    with time_machine.travel(START, tick=False):
        alert = _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        request = RequestFactory().post("/")
        request.user = nurse
        acknowledge_safety_alert(
            request=request, alert=alert, action="called_patient", note="", by=nurse
        )
    with time_machine.travel(START + dt.timedelta(hours=5), tick=False):
        assert escalate_overdue_alerts() == 0
    assert not AlertNotification.objects.exists()


def test_with_nobody_on_call_that_is_recorded_and_the_admins_are_told_at_once(
    clinic_admin: User, patient_a: Patient
) -> None:
    with time_machine.travel(START, tick=False):
        alert = _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        assert escalate_overdue_alerts() == 1
        assert escalate_overdue_alerts() == 0
    nobody = alert.notifications.get(stage="on_call")
    assert (nobody.status, nobody.detail) == ("no_recipient", "Nobody on call")
    assert mail.outbox[-1].to == [clinic_admin.email]
    assert alert.notifications.get(stage="admin").status == "sent"


def test_a_late_run_pages_whoever_is_on_call_now(
    physician: User, patient_a: Patient
) -> None:
    with time_machine.travel(START, tick=False):
        _alert(patient_a)
    # The worker was down; a shift starting after the deadline is on call now.
    OnCallShift.objects.create(
        physician=physician,
        starts_at=START + dt.timedelta(minutes=90),
        ends_at=START + dt.timedelta(hours=12),
        created_by=physician,
    )
    with time_machine.travel(START + dt.timedelta(minutes=100), tick=False):
        escalate_overdue_alerts()
    assert mail.outbox[0].to == [physician.email]


def test_one_broken_alert_does_not_stop_the_others(
    physician: User,
    patient_a: Patient,
    patient_b: Patient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on_call(physician, phone="")
    with time_machine.travel(START, tick=False):
        broken, fine = _alert(patient_a), _alert(patient_b)
    real = escalation.due_times

    def fragile(alert: SafetyAlert, clinic: object) -> dict[str, dt.datetime]:
        if alert.pk == broken.pk:
            raise ValueError("bad time zone")
        return real(alert, clinic)  # type: ignore[arg-type]

    monkeypatch.setattr(escalation, "due_times", fragile)
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        assert escalate_overdue_alerts() == 1
    assert fine.notifications.count() == 1


def test_a_moderate_alert_escalates_after_one_business_day(
    physician: User, patient_a: Patient
) -> None:
    _on_call(physician)
    friday = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)  # 15:00 in Toronto
    OnCallShift.objects.update(ends_at=friday + dt.timedelta(days=7))
    with time_machine.travel(friday, tick=False):
        _alert(patient_a, "moderate")
    monday_before = friday + dt.timedelta(days=3) - dt.timedelta(minutes=1)
    with time_machine.travel(monday_before, tick=False):
        assert escalate_overdue_alerts() == 0
    with time_machine.travel(friday + dt.timedelta(days=3), tick=False):
        assert escalate_overdue_alerts() == 2


def test_the_clinic_sets_the_deadline(physician: User, patient_a: Patient) -> None:
    _on_call(physician, phone="")
    profile = get_clinic_profile()
    profile.high_alert_deadline_minutes = 15
    profile.save()
    with time_machine.travel(START, tick=False):
        _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(minutes=15), tick=False):
        assert escalate_overdue_alerts() == 1


def test_a_failed_message_is_tried_again_then_given_up(
    physician: User, patient_a: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_call(physician, phone="")
    calls: list[str] = []

    def down(*args: object, **kwargs: object) -> None:
        calls.append("x")
        raise OSError("mail server down")

    monkeypatch.setattr(escalation, "send_mail", down)
    with time_machine.travel(START, tick=False):
        alert = _alert(patient_a)
    for minutes in (60, 61, 62, 63, 64, 65):
        with time_machine.travel(START + dt.timedelta(minutes=minutes), tick=False):
            escalate_overdue_alerts()
    row = alert.notifications.get(stage="on_call")
    assert (row.status, row.attempts) == ("failed", 3)
    assert "mail server down" in row.detail
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_escalation_runs_in_the_worker_and_survives_a_killed_one(
    physician: User, patient_a: Patient
) -> None:
    _on_call(physician, phone="")
    with time_machine.travel(START, tick=False):
        _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(minutes=61), tick=False):
        clinic_tick.enqueue()
        killed = DBTaskResult.objects.get(task_path=TICK_PATH)
        DBTaskResult.objects.filter(pk=killed.pk).update(
            status=TaskResultStatus.RUNNING, started_at=timezone.now()
        )
    # The worker died with the tick "running". A new worker starts later.
    with time_machine.travel(START + dt.timedelta(minutes=75), tick=False):
        call_command("clinic_worker", "--batch", "--interval", "0")
    assert [m.to for m in mail.outbox] == [[physician.email]]
    killed.refresh_from_db()
    assert killed.status == TaskResultStatus.SUCCESSFUL
    with time_machine.travel(START + dt.timedelta(minutes=80), tick=False):
        call_command("clinic_worker", "--batch", "--interval", "0")
    assert len(mail.outbox) == 1


def test_the_queue_shows_the_deadline_and_who_was_paged(
    client_for: ClientFor, physician: User, nurse: User, patient_a: Patient
) -> None:
    _on_call(physician, phone="")
    with time_machine.travel(START, tick=False):
        _alert(patient_a)
    with time_machine.travel(START + dt.timedelta(minutes=61), tick=False):
        escalate_overdue_alerts()
        page = client_for(nurse).get(reverse("safety:alert_queue")).content.decode()
    assert "overdue" in page
    assert f"On-call physician: {physician.display_name} (email, sent" in page
    assert f"On call now: <strong>{physician.display_name}</strong>" in page
