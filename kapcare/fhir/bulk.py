"""Bulk Data $export (FHIR Bulk Data Access IG, https://hl7.org/fhir/uv/bulkdata/):
kick-off, a task that writes NDJSON files page by page (memory stays flat however
many patients), status, manifest, files, cancellation and expiry.

One run at a time: a run claims the export with its own id and keeps a heartbeat;
every file it records and every status it sets is conditional on still holding
the claim. A second worker (django-tasks re-queues a job left "running") finds
the claim fresh and leaves; a run whose worker died is taken over once its
heartbeat is stale, and the new run throws away everything the old one wrote.
A cancelled or revoked export stops at the next page and keeps no file."""

import json
import logging
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_events,
)
from kapcare.fhir.api import HANDLERS, Query
from kapcare.fhir.auth import Grant
from kapcare.fhir.errors import FhirError
from kapcare.fhir.models import BulkExport, BulkExportFile

logger = logging.getLogger(__name__)

PATIENT_TYPES = [
    "Patient", "QuestionnaireResponse", "Observation", "Encounter",
    "MedicationAdministration", "Flag", "Appointment", "Consent",
]  # fmt: skip
SYSTEM_TYPES = [*PATIENT_TYPES, "Practitioner", "Questionnaire"]
GROUPS = {"active": "All patients in active treatment or maintenance"}
PAGE_SIZE = 500
LINES_PER_FILE = 50_000
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
KEEP_FOR = timedelta(hours=24)
UTC_ZONE = ZoneInfo("UTC")


def storage() -> Any:
    return storages["private"]


def folder(export: BulkExport) -> str:
    return f"exports/{export.pk}"


class SupersededError(Exception):
    """This run no longer holds the export (cancelled, revoked or taken over)."""


def kick_off(
    *, grant: Grant, level: str, group: str, types: list[str], since: str | None,
    output_format: str | None, request_url: str,
) -> BulkExport:  # fmt: skip
    if grant.patient_id is not None or "system/*.read" not in grant.scopes:
        raise FhirError(
            403, "forbidden", "Bulk export needs a system client (system/*.read)."
        )
    if output_format not in (
        None,
        "",
        "application/fhir+ndjson",
        "application/ndjson",
        "ndjson",
    ):
        raise FhirError(
            400, "not-supported", "_outputFormat: only application/fhir+ndjson."
        )
    allowed = SYSTEM_TYPES if level == BulkExport.Level.SYSTEM else PATIENT_TYPES
    wanted = allowed
    if types:
        asked = [t.strip() for raw in types for t in raw.split(",") if t.strip()]
        unknown = [t for t in asked if t not in allowed]
        if unknown:
            raise FhirError(
                400, "not-supported",
                f"_type: {', '.join(unknown)[:100]} cannot be exported here "
                f"(choose from {', '.join(allowed)}).",
            )  # fmt: skip
        wanted = list(dict.fromkeys(asked))
    since_at = _since(since)
    if level == BulkExport.Level.GROUP and group not in GROUPS:
        raise FhirError(
            404,
            "not-found",
            f"Group/{group[:40]} is not known here (try Group/active).",
        )
    export = BulkExport.objects.create(
        client=grant.client, level=level, group=group, types=wanted, since=since_at,
        request_url=request_url[:500],
    )  # fmt: skip
    from kapcare.fhir.tasks import run_bulk_export

    transaction.on_commit(lambda: run_bulk_export.enqueue(str(export.pk)))
    return export


def _since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise FhirError(400, "invalid", "_since: give the time zone offset too.")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise FhirError(
            400, "invalid", "_since: give an instant, e.g. 2026-01-01T00:00:00Z."
        ) from exc
    if not EARLIEST <= moment <= timezone.now():
        raise FhirError(400, "invalid", "_since: give an instant from 1900 up to now.")
    return moment


def _claim(export_id: str) -> uuid.UUID | None:
    """Take the export for a new run, or None if another live run holds it."""
    run = uuid.uuid4()
    now = timezone.now()
    stale = now - settings.STALE_TASK_AFTER
    taken = BulkExport.objects.filter(
        Q(status=BulkExport.Status.QUEUED)
        | Q(status=BulkExport.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=BulkExport.Status.RUNNING, heartbeat_at__isnull=True),
        pk=export_id, client__revoked_at=None,
    ).update(status=BulkExport.Status.RUNNING, run_id=run, heartbeat_at=now, progress="Starting")  # fmt: skip
    return run if taken else None


def _beat(export: BulkExport, run: uuid.UUID, progress: str) -> None:
    """Renew the claim; raise SupersededError if it was lost (or the client revoked)."""
    held = BulkExport.objects.filter(
        pk=export.pk, run_id=run, status=BulkExport.Status.RUNNING,
        client__revoked_at=None,
    ).update(heartbeat_at=timezone.now(), progress=progress[:100])  # fmt: skip
    if not held:
        raise SupersededError


def run_export(export_id: str) -> str:
    """Write the export's files. Returns the export's status afterwards."""
    run = _claim(export_id)
    export = BulkExport.objects.select_related("client").filter(pk=export_id).first()
    if export is None:
        return "missing"
    if run is None:
        return export.status
    discard_files(export)
    grant = Grant(export.client, frozenset(export.client.scopes), None)
    context = Context.system(f"FHIR client: {export.client.name} (bulk export)")
    audited: set[str] = set()
    try:
        for resource_type in export.types:
            _export_type(export, run, grant, resource_type, audited, context)
    except SupersededError:
        return BulkExport.objects.get(pk=export.pk).status
    except Exception as exc:
        logger.exception("Bulk export %s failed", export.pk)
        if BulkExport.objects.filter(pk=export.pk, run_id=run).update(
            status=BulkExport.Status.FAILED, finished_at=timezone.now(),
            error=f"{type(exc).__name__}; the error is logged.",
        ):  # fmt: skip
            discard_files(export)
        return BulkExport.Status.FAILED
    BulkExport.objects.filter(
        pk=export.pk, run_id=run, status=BulkExport.Status.RUNNING
    ).update(status=BulkExport.Status.DONE, progress="Done", finished_at=timezone.now())
    return BulkExport.objects.get(pk=export.pk).status


def _query(export: BulkExport) -> Query:
    values: dict[str, list[str]] = {
        "_changed_until": [export.transaction_time.astimezone(UTC).isoformat()]
    }
    if export.group:
        values["_group"] = [export.group]
    if export.since is not None:
        values["_changed_since"] = [export.since.astimezone(UTC).isoformat()]
    return Query(values, PAGE_SIZE, None, False, UTC_ZONE)


class _Parts:
    """NDJSON lines into temporary files of LINES_PER_FILE lines each, each
    recorded only while the run still holds the export: memory holds one line."""

    def __init__(self, export: BulkExport, run: uuid.UUID, resource_type: str) -> None:
        self.export, self.run, self.resource_type = export, run, resource_type
        self.part, self.lines, self.written = 1, 0, 0
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by flush/close

    def write(self, resource: dict[str, Any]) -> None:
        self.file.write(json.dumps(resource, separators=(",", ":")).encode() + b"\n")
        self.lines += 1
        self.written += 1
        if self.lines == LINES_PER_FILE:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.file.seek(0)
            name = storage().save(
                f"{folder(self.export)}/{self.resource_type}-{self.part}-"
                f"{uuid.uuid4().hex[:12]}.ndjson",
                File(self.file),
            )
            with transaction.atomic():
                held = BulkExport.objects.select_for_update().filter(
                    pk=self.export.pk, run_id=self.run, status=BulkExport.Status.RUNNING
                ).exists()  # fmt: skip
                if held:
                    BulkExportFile.objects.create(
                        export=self.export, resource_type=self.resource_type,
                        part=self.part, name=name, count=self.lines,
                    )  # fmt: skip
            if not held:
                storage().delete(name)
                raise SupersededError
            self.part, self.lines = self.part + 1, 0
        self.file.close()
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by flush/close

    def close(self) -> None:
        self.file.close()


def _export_type(
    export: BulkExport, run: uuid.UUID, grant: Grant, resource_type: str,
    audited: set[str], context: Context,
) -> None:  # fmt: skip
    handler = HANDLERS[resource_type]
    query = _query(export)
    parts = _Parts(export, run, resource_type)
    try:
        while True:
            page = handler.search(grant, query)
            for resource in page.resources:
                parts.write(resource)
            _audit_new(export, page.patients - audited, context)
            audited |= page.patients
            _beat(export, run, f"{resource_type}: {parts.written} written")
            if page.next_cursor is None:
                break
            query.cursor = page.next_cursor
        parts.flush()
    finally:
        parts.close()


def _audit_new(export: BulkExport, patients: set[str], context: Context) -> None:
    if not patients:
        return
    record_events(
        [
            PendingEvent(
                action=Action.EXPORT,
                patient_id=patient_id,
                information=Information.CLINICAL,
                object_type="fhir_export",
                object_id=str(export.pk),
                summary=f"Included in a FHIR bulk export for “{export.client.name}”",
            )
            for patient_id in sorted(patients)
        ],
        context=context,
    )


def discard_files(export: BulkExport) -> None:
    """Every file of the export: recorded ones and any a killed run left behind."""
    for name in list(export.files.values_list("name", flat=True)):
        storage().delete(name)
    export.files.all().delete()
    try:
        _, names = storage().listdir(folder(export))
    except (FileNotFoundError, OSError):
        names = []
    for name in names:
        storage().delete(f"{folder(export)}/{name}")


def cancel(export: BulkExport) -> None:
    """DELETE on the status URL: stop it (the run notices at its next page) and
    delete what it wrote."""
    BulkExport.objects.filter(pk=export.pk).update(
        status=BulkExport.Status.CANCELLED, finished_at=timezone.now(), run_id=None
    )
    discard_files(export)


def expire_exports(*, now: datetime | None = None) -> int:
    """The clock's job: delete the files of exports finished over KEEP_FOR ago."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    old = list(BulkExport.objects.filter(finished_at__lt=cutoff).exclude(files=None))
    for export in old:
        discard_files(export)
    return len(old)
