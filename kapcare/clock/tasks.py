from django_tasks import task

from kapcare.clock.jobs import ensure_next_tick, requeue_stale_tasks, run_clinic_jobs


@task()
def clinic_tick() -> dict[str, int]:
    """One beat of the clinic clock. The next beat is queued first, so a job that
    crashes or a worker that is killed mid-beat never stops the clock."""
    ensure_next_tick()
    requeue_stale_tasks()
    return run_clinic_jobs()
