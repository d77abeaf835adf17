"""Issue 9's target: an Observation search for a patient with 500 observations."""

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.test import Client, RequestFactory
from django.utils import timezone

from bench.timing import Send
from kapcare.accounts.models import User
from kapcare.fhir.auth import register_client
from kapcare.fhir.bulk import run_export
from kapcare.fhir.models import BulkExport
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession, VitalSign

OBSERVATIONS = 500


def seed_fhir() -> tuple[Client, str]:
    """A system client, and the search for a patient with OBSERVATIONS
    observations (150 vital-sign rows of BP, heart rate and SpO2, and 50 PHQ-9
    totals); returns the client and the search address."""
    session = DosingSession.objects.select_related("patient").first()
    assert session is not None  # noqa: S101 - the demo clinic has sessions
    patient: Patient = session.patient
    nurse = User.objects.get(email="nurse@demo.kapcare.test")
    start = timezone.now() - timedelta(days=200)
    VitalSign.objects.bulk_create(
        VitalSign(
            session=session,
            taken_at=start + timedelta(hours=n),
            systolic=120,
            diastolic=80,
            heart_rate=70,
            spo2=98,
            recorded_by=nurse,
        )
        for n in range(150)
    )
    for n in range(50):
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=[1] * 9,
            source="paper", submission_key=f"bench-fhir-{n}",
            authored_at=start + timedelta(days=n, minutes=7),
        )  # fmt: skip
    DosingSession.objects.filter(pk=session.pk).update(weight_kg=Decimal("70"))
    admin = User.objects.get(email="admin@demo.kapcare.test")
    request = RequestFactory().get("/")
    request.user = admin
    _, token = register_client(
        request=request, name="Bench", kind="system", patient=None,
        may_submit_responses=False, by=admin,
    )  # fmt: skip
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, f"/fhir/Observation?patient={patient.pk}&_count=50"


def next_page(client: Client, search: str) -> Send:
    """The second page: its address comes from the first page's next link."""
    first = client.get(search).json()
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    path = url[url.index("/fhir/") :]
    return lambda: client.get(path)


class PeakMemory:
    """The process's resident memory above its level at the start, sampled every
    20 ms by a thread (no tracing overhead on the code measured)."""

    def __enter__(self) -> "PeakMemory":
        self.base = self.peak = _rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def peak_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _rss() -> int:
    """Resident set size in bytes (Linux /proc)."""
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ExportFigures:
    patients: int
    resources: int
    seconds: float
    peak_mb: float
    plain_seconds: float
    plain_peak_mb: float

    @property
    def per_second(self) -> float:
        return self.resources / self.seconds

    @property
    def overhead(self) -> float:
        return self.seconds / self.plain_seconds


def measure_export(patients: int = 5_000) -> ExportFigures:
    """A Patient-level export of Patient and QuestionnaireResponse for the first
    `patients` charts, against json.dumps of the same rows (no FHIR building),
    each timed with its peak resident memory growth, in the same run."""
    admin = User.objects.get(email="admin@demo.kapcare.test")
    request = RequestFactory().get("/")
    request.user = admin
    client, _ = register_client(
        request=request, name="Bench export", kind="system", patient=None,
        may_submit_responses=False, by=admin,
    )  # fmt: skip
    chosen = Patient.objects.order_by("mrn").values("pk")[:patients]
    Patient.objects.exclude(pk__in=chosen).update(status=Patient.Status.DISCHARGED)
    Patient.objects.filter(pk__in=chosen).update(status=Patient.Status.ACTIVE)
    export = BulkExport.objects.create(
        client=client, level=BulkExport.Level.GROUP, group="active",
        types=["Patient", "QuestionnaireResponse"], request_url="bench",
    )  # fmt: skip
    with PeakMemory() as memory:
        started = time.perf_counter()
        assert run_export(str(export.pk)) == "done"  # noqa: S101 - a failed bench run
        seconds = time.perf_counter() - started
    peak = memory.peak_mb
    resources = sum(export.files.values_list("count", flat=True))
    with PeakMemory() as plain_memory:
        started = time.perf_counter()
        plain = 0
        for model, field in ((Patient, "pk"), (QuestionnaireResponse, "patient_id")):
            rows = model.objects.filter(**{f"{field}__in": chosen}).values()
            for row in rows.iterator(chunk_size=500):
                json.dumps(row, default=str)
                plain += 1
        plain_seconds = time.perf_counter() - started
    plain_peak = plain_memory.peak_mb
    assert plain == resources  # noqa: S101 - the same rows both ways
    return ExportFigures(patients, resources, seconds, peak, plain_seconds, plain_peak)
