"""The clinic's recurring jobs, run by the clock task every CLOCK_INTERVAL.

Every job is idempotent (it can run twice, or again after being killed, without
sending or raising anything twice), because django-tasks never retries and a
killed worker leaves its job "running" until `requeue_stale_tasks` frees it.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kapcare.fhir.bulk import expire_exports
from kapcare.measures.services import send_due_questionnaires
from kapcare.safety.escalation import escalate_overdue_alerts
from kapcare.scheduling.notices import appointment_messages_job

logger = logging.getLogger(__name__)

TICK_PATH = "kapcare.clock.tasks.clinic_tick"


def _jobs() -> dict[str, Callable[[], int]]:
    return {
        "escalations_sent": lambda: escalate_overdue_alerts(),
        "questionnaires_sent": lambda: send_due_questionnaires(),
        "appointment_messages_sent": lambda: appointment_messages_job(),
        "bulk_exports_expired": lambda: expire_exports(),
    }


def run_clinic_jobs() -> dict[str, int]:
    """Run every job; one job's failure is logged and does not stop the others."""
    figures = {}
    for name, job in _jobs().items():
        try:
            figures[name] = job()
        except Exception:
            logger.exception("Clinic job %s failed", name)
            figures[name] = -1
    return figures


def requeue_stale_tasks(*, now: datetime | None = None) -> int:
    """Put back jobs left "running" by a worker that died (killed, host lost).

    Safe because every task is idempotent; a job still genuinely running after
    STALE_TASK_AFTER would at worst run twice, which idempotency absorbs.
    """
    cutoff = (now or timezone.now()) - settings.STALE_TASK_AFTER
    stale = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    )
    count = stale.update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("Re-queued %d stale task(s)", count)
    return count


def ensure_next_tick(*, now: datetime | None = None) -> bool:
    """Queue the next clock tick unless one is already waiting. Returns True if queued."""
    from kapcare.clock.tasks import clinic_tick

    now = now or timezone.now()
    with transaction.atomic():
        waiting = DBTaskResult.objects.filter(
            task_path=TICK_PATH, status=TaskResultStatus.READY
        ).exists()
        if waiting:
            return False
        clinic_tick.using(run_after=now + settings.CLOCK_INTERVAL).enqueue()
    return True
