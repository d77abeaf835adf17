from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kapcare.clock.jobs import ensure_next_tick, requeue_stale_tasks


class Command(BaseCommand):
    help = (
        "Run the background worker: frees jobs a killed worker left running, starts "
        "the clinic clock (due questionnaires, alert escalation) and processes tasks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Exit when no task is ready."
        )
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        requeued = requeue_stale_tasks()
        ensure_next_tick()
        self.stdout.write(
            f"Clinic worker starting ({requeued} stale task(s) re-queued)"
        )
        worker_options: dict[str, Any] = {"interval": options["interval"]}
        if options["batch"]:
            worker_options["batch"] = True
        call_command("db_worker", **worker_options)
