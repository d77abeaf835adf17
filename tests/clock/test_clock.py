"""The clinic clock: recurring jobs in the task queue that survive a killed worker."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kapcare.accounts.models import User
from kapcare.clock import jobs
from kapcare.clock.jobs import (
    TICK_PATH,
    ensure_next_tick,
    requeue_stale_tasks,
    run_clinic_jobs,
)
from kapcare.clock.tasks import clinic_tick
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireLink
from kapcare.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


def _ticks(status: str) -> int:
    return DBTaskResult.objects.filter(task_path=TICK_PATH, status=status).count()


def _weekly_phq9(patient: Patient, staff: User) -> QuestionnaireAssignment:
    return QuestionnaireAssignment.objects.create(
        patient=patient,
        instrument="phq9",
        repeat="weekly",
        starts_on=timezone.localdate(),
        assigned_by=staff,
    )


def test_only_one_tick_waits_at_a_time() -> None:
    assert ensure_next_tick() is True
    assert ensure_next_tick() is False
    assert _ticks(TaskResultStatus.READY) == 1
    tick = DBTaskResult.objects.get(task_path=TICK_PATH)
    assert tick.run_after > timezone.now()


def test_the_worker_runs_a_tick_sends_due_questionnaires_and_queues_the_next(
    nurse: User, patient_a: Patient
) -> None:
    _weekly_phq9(patient_a, nurse)
    clinic_tick.enqueue()
    call_command("clinic_worker", "--batch", "--interval", "0")
    assert QuestionnaireLink.objects.filter(patient=patient_a).count() == 1
    assert _ticks(TaskResultStatus.SUCCESSFUL) == 1
    assert _ticks(TaskResultStatus.READY) == 1  # the next beat, a minute from now
    done = DBTaskResult.objects.get(
        task_path=TICK_PATH, status=TaskResultStatus.SUCCESSFUL
    )
    assert done.return_value == {
        "escalations_sent": 0,
        "questionnaires_sent": 1,
        "appointment_messages_sent": 0,
        "bulk_exports_expired": 0,
    }


def test_a_tick_killed_mid_run_is_run_again_by_the_next_worker(
    nurse: User, patient_a: Patient
) -> None:
    _weekly_phq9(patient_a, nurse)
    clinic_tick.enqueue()
    killed = DBTaskResult.objects.get(task_path=TICK_PATH)
    DBTaskResult.objects.filter(pk=killed.pk).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(minutes=5),
        worker_ids=["dead-worker"],
    )
    call_command("clinic_worker", "--batch", "--interval", "0")
    killed.refresh_from_db()
    assert killed.status == TaskResultStatus.RUNNING  # not yet stale: maybe still alive

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        call_command("clinic_worker", "--batch", "--interval", "0")
    killed.refresh_from_db()
    assert killed.status == TaskResultStatus.SUCCESSFUL
    assert QuestionnaireLink.objects.filter(patient=patient_a).count() == 1


def test_requeue_frees_only_stale_running_tasks() -> None:
    clinic_tick.enqueue()
    clinic_tick.enqueue()
    old, recent = DBTaskResult.objects.all()[:2]
    now = timezone.now()
    DBTaskResult.objects.filter(pk=old.pk).update(
        status=TaskResultStatus.RUNNING, started_at=now - dt.timedelta(minutes=11)
    )
    DBTaskResult.objects.filter(pk=recent.pk).update(
        status=TaskResultStatus.RUNNING, started_at=now - dt.timedelta(minutes=9)
    )
    assert requeue_stale_tasks(now=now) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.started_at) == (TaskResultStatus.READY, None)
    assert recent.status == TaskResultStatus.RUNNING


def test_one_failing_job_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> int:
        raise RuntimeError("mail server down")

    monkeypatch.setattr(
        jobs, "_jobs", lambda: {"broken": broken, "escalation": lambda: 3}
    )
    assert run_clinic_jobs() == {"broken": -1, "escalation": 3}
    assert "Clinic job broken failed" in caplog.text
