from django_tasks import task

from kapcare.scheduling.notices import deliver_many


@task()
def deliver_appointment_messages(message_ids: list[str]) -> int:
    """Send messages queued by a booking. Idempotent: each is claimed before it is
    sent, so a re-run (or the clock's sweep) never sends one twice."""
    return deliver_many(message_ids)
