from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kapcare.audit.services import verify_audit_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit non-zero at the first tampered or missing event."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_audit_chain()
        if broken is not None:
            raise CommandError(
                f"Audit log broken at event #{broken.seq}: {broken.reason} "
                f"({checked} events read)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit log intact: {checked} events verified.")
        )
