from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.backups.services import BackupError, read_manifest, restore_backup


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup, then verify every table's "
        "row count and checksum against its manifest and the audit chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", type=Path, help="The backup file (its manifest beside it)."
        )
        parser.add_argument(
            "--yes", action="store_true",
            help="Confirm: everything written since the backup is replaced.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            manifest = read_manifest(path)
        except (BackupError, OSError, ValueError) as exc:
            raise CommandError(f"Cannot restore {path}: {exc}") from exc
        if not options["yes"]:
            raise CommandError(
                f"This replaces the whole database with the backup of "
                f"{manifest['created_at']}. Stop the app servers and workers, then "
                "run again with --yes."
            )
        try:
            result = restore_backup(path)
        except (BackupError, OSError) as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {path.name}: {result.tables} tables and {result.rows} rows "
                f"match the manifest; audit chain intact ({result.audit_events} events)."
            )
        )
