from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.backups.services import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Take a consistent online backup (SQLite backup API, or pg_dump) with a "
        "manifest of every table's row count and checksum."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", type=Path, default=Path(settings.BACKUP_DIR),
            help="Directory for the backup (default: BACKUP_DIR, var/backups).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = make_backup(options["to"])
        except (BackupError, OSError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.path} ({result.tables} tables, "
                f"{result.rows} rows; manifest {result.manifest.name})."
            )
        )
