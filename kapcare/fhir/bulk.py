"""Bulk Data $export (FHIR Bulk Data Access IG, https://hl7.org/fhir/uv/bulkdata/):
kick-off, a task that writes NDJSON files page by page (memory stays flat however
many patients), status, manifest, files and cancellation.

The task is idempotent: run again (a worker killed mid-export, re-queued by the
clock), it throws away the files of the broken run and starts over; a finished or
cancelled export is left alone."""

import json
import logging
import tempfile
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
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
# _since: the resource's date (its last update for Patient and QuestionnaireResponse).
SINCE_PARAMS = {
    "Patient": "_lastUpdated", "QuestionnaireResponse": "_lastUpdated",
    "Observation": "date", "Encounter": "date", "MedicationAdministration": "effective-time",
    "Flag": "date", "Appointment": "date", "Consent": "date",
}  # fmt: skip
GROUPS = {"active": "All patients in active treatment or maintenance"}
PAGE_SIZE = 500
LINES_PER_FILE = 50_000
UTC = ZoneInfo("UTC")


def storage() -> Any:
    return storages["private"]


def kick_off(
    *, grant: Grant, level: str, group: str, types: str | None, since: str | None,
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
        wanted = [t.strip() for t in types.split(",") if t.strip()]
        unknown = [t for t in wanted if t not in allowed]
        if unknown:
            raise FhirError(
                400, "not-supported",
                f"_type: {', '.join(unknown)[:100]} cannot be exported here "
                f"(choose from {', '.join(allowed)}).",
            )  # fmt: skip
    since_at = None
    if since:
        try:
            since_at = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise FhirError(
                400, "invalid", "_since: give an instant, e.g. 2026-01-01T00:00:00Z."
            ) from exc
        if since_at.tzinfo is None:
            raise FhirError(400, "invalid", "_since: give the time zone offset too.")
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


def run_export(export_id: str) -> str:
    """Write the export's files. Returns its final status."""
    export = BulkExport.objects.select_related("client").filter(pk=export_id).first()
    if export is None or export.status in (
        BulkExport.Status.DONE, BulkExport.Status.CANCELLED, BulkExport.Status.FAILED,
    ):  # fmt: skip
        return export.status if export else "missing"
    _discard_files(export)
    BulkExport.objects.filter(pk=export.pk).update(
        status=BulkExport.Status.RUNNING, progress="Starting", error=""
    )
    grant = Grant(export.client, frozenset(export.client.scopes), None)
    audited: set[str] = set()
    context = Context.system(f"FHIR client: {export.client.name} (bulk export)")
    try:
        for resource_type in export.types:
            if not _still_wanted(export):
                return BulkExport.Status.CANCELLED
            _export_type(export, grant, resource_type, audited, context)
    except Exception as exc:
        logger.exception("Bulk export %s failed", export.pk)
        BulkExport.objects.filter(pk=export.pk).update(
            status=BulkExport.Status.FAILED,
            error=str(exc)[:300],
            finished_at=timezone.now(),
        )
        return BulkExport.Status.FAILED
    BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.RUNNING).update(
        status=BulkExport.Status.DONE, progress="Done", finished_at=timezone.now()
    )
    return BulkExport.Status.DONE


def _still_wanted(export: BulkExport) -> bool:
    return BulkExport.objects.filter(
        pk=export.pk, status=BulkExport.Status.RUNNING
    ).exists()


def _query(export: BulkExport, resource_type: str) -> Query:
    values: dict[str, list[str]] = {}
    if export.group:
        values["_group"] = [export.group]
    param = SINCE_PARAMS.get(resource_type)
    if export.since is not None and param:
        values[param] = [
            "ge" + export.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        ]
    return Query(values, PAGE_SIZE, None, False, UTC)


class _Parts:
    """NDJSON lines into temporary files of LINES_PER_FILE lines each, each
    saved to storage when full: memory holds one line at a time."""

    def __init__(self, export: BulkExport, resource_type: str) -> None:
        self.export, self.resource_type = export, resource_type
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
                f"exports/{self.export.pk}/{self.resource_type}-{self.part}.ndjson",
                File(self.file),
            )
            BulkExportFile.objects.create(
                export=self.export, resource_type=self.resource_type, part=self.part,
                name=name, count=self.lines,
            )  # fmt: skip
            self.part, self.lines = self.part + 1, 0
        self.file.close()
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by flush/close

    def close(self) -> None:
        self.file.close()


def _export_type(
    export: BulkExport, grant: Grant, resource_type: str, audited: set[str],
    context: Context,
) -> None:  # fmt: skip
    handler = HANDLERS[resource_type]
    query = _query(export, resource_type)
    parts = _Parts(export, resource_type)
    try:
        while True:
            page = handler.search(grant, query)
            for resource in page.resources:
                parts.write(resource)
            _audit_new(export, page.patients - audited, context)
            audited |= page.patients
            BulkExport.objects.filter(pk=export.pk).update(
                progress=f"{resource_type}: {parts.written} written"
            )
            if page.next_cursor is None or not _still_wanted(export):
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


def _discard_files(export: BulkExport) -> None:
    for file in list(export.files.all()):
        storage().delete(file.name)
        file.delete()


def cancel(export: BulkExport) -> None:
    """DELETE on the status URL: stop it and delete what it wrote."""
    BulkExport.objects.filter(pk=export.pk).update(
        status=BulkExport.Status.CANCELLED, finished_at=timezone.now()
    )
    _discard_files(export)
