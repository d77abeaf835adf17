"""Issue 11's target: the clinic outcome dashboard with 20,000 patients and
1,000,000 questionnaire responses, on the configured database (SQLite by default;
PostgreSQL when DATABASE_URL is set), in a scratch database.

Prints the page's p50/p95 and the same SQL statements the dashboard runs, captured
from one page and re-executed alone through the driver, and their ratio.

    .venv/bin/python -m bench.outcomes [--patients 20000] [--responses 1000000]
"""

import argparse
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import django
from django.conf import settings
from django.test.utils import override_settings

from bench.timing import percentile

STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
# (instrument, share of the responses, range, typical baseline)
INSTRUMENTS = (
    ("phq9", 0.40, 27, 17),
    ("gad7", 0.30, 21, 13),
    ("pcl5", 0.15, 80, 45),
    ("madrs", 0.15, 60, 30),
)


@dataclass(frozen=True)
class OutcomeFigures:
    database: str
    patients: int
    courses: int
    responses: int
    seed_seconds: float
    page_p50_ms: float
    page_p95_ms: float
    page_queries: int
    sql_statements: int
    sql_p50_ms: float
    sql_p95_ms: float

    @property
    def ratio_p95(self) -> float:
        return self.page_p95_ms / self.sql_p95_ms

    @property
    def ratio_p50(self) -> float:
        return self.page_p50_ms / self.sql_p50_ms


def seed(patients: int, responses: int, rng: random.Random) -> tuple[int, int]:
    """Courses, dosing sessions (with vitals and some adverse events), alerts and
    responses in bulk. Returns (courses, responses in the database)."""
    from django.utils import timezone

    from kapcare.accounts.models import User
    from kapcare.measures.models import QuestionnaireResponse
    from kapcare.patients.demo import DEMO_DOMAIN
    from kapcare.patients.models import Patient
    from kapcare.safety.models import SafetyAlert
    from kapcare.treatment.models import (
        AdverseEvent,
        DosingSession,
        Protocol,
        TreatmentCourse,
        VitalSign,
        end_of_day,
    )
    from kapcare.website.models import clinic_zone

    physician = User.objects.get(email=f"physician@{DEMO_DOMAIN}")
    nurse = User.objects.get(email=f"nurse@{DEMO_DOMAIN}")
    iv = Protocol.objects.get(route="iv")
    nasal = Protocol.objects.get(route="nasal")
    now = timezone.now()
    ids = list(
        Patient.objects.filter(courses__isnull=True).values_list("pk", flat=True)
    )
    courses = []
    zone = clinic_zone()
    for patient_id in ids:
        first = now - timedelta(days=rng.uniform(5, 360), hours=rng.uniform(0, 8))
        protocol = nasal if rng.random() < 0.1 else iv
        # six in ten courses finished about two weeks after the first dose
        ended_on = (
            min(first.date() + timedelta(days=15), now.date())
            if rng.random() < 0.6 else None
        )  # fmt: skip
        courses.append(
            TreatmentCourse(
                patient_id=patient_id, protocol=protocol, indication="depression",
                phase="induction", status="completed" if ended_on else "active",
                prescriber=physician, prescribed_dose=Decimal("0.5"), planned_sessions=6,
                starts_on=first.date(), first_dose_at=first, created_by=physician,
                ended_on=ended_on, ended_at=end_of_day(ended_on, zone) if ended_on else None,
            )
        )  # fmt: skip
    TreatmentCourse.objects.bulk_create(courses, batch_size=5_000)
    sessions, vitals, events, alerts = [], [], [], []
    for course in courses:
        assert course.first_dose_at is not None  # noqa: S101 - set above
        for number in range(1, 7):
            at = course.first_dose_at + timedelta(days=(number - 1) * 2.5)
            if at > now:
                break
            sessions.append(
                DosingSession(
                    course=course, patient_id=course.patient_id, number=number,
                    opened_by=nurse, opened_at=at, dose_started_at=at,
                    dose_mg=Decimal("35"), infusion_minutes=40, status="signed",
                )
            )  # fmt: skip
    DosingSession.objects.bulk_create(sessions, batch_size=5_000)
    for session in sessions:
        vitals.append(
            VitalSign(
                session=session, taken_at=session.opened_at, recorded_by=nurse,
                systolic=rng.choice((118, 126, 134, 146)), diastolic=80,
                spo2=rng.choice((97, 98, 92)), heart_rate=74,
            )
        )  # fmt: skip
        if rng.random() < 0.05:
            events.append(
                AdverseEvent(
                    session=session, patient_id=session.patient_id,
                    kind=rng.choice(("nausea", "hypertension", "emergence")),
                    severity=rng.choice(("mild", "mild", "moderate")),
                    occurred_at=session.opened_at, outcome="resolved", reported_by=nurse,
                )
            )  # fmt: skip
    VitalSign.objects.bulk_create(vitals, batch_size=5_000)
    AdverseEvent.objects.bulk_create(events, batch_size=5_000)
    for course in courses[: len(courses) // 10]:
        assert course.first_dose_at is not None  # noqa: S101 - set above
        raised = course.first_dose_at + timedelta(days=rng.uniform(1, 20))
        alerts.append(
            SafetyAlert(
                patient_id=course.patient_id, level="high", level_rank=0,
                trigger="manual", reason="Synthetic", raised_at=raised,
                acknowledged_at=raised + timedelta(minutes=rng.uniform(2, 180)),
                state="acknowledged",
            )
        )  # fmt: skip
    SafetyAlert.objects.bulk_create(alerts, batch_size=5_000)

    have = QuestionnaireResponse.objects.count()
    wanted = max(0, responses - have)
    per_course = max(1, wanted // len(courses))
    batch: list[QuestionnaireResponse] = []
    made = 0
    for course in courses:
        first_dose = course.first_dose_at
        assert first_dose is not None  # noqa: S101 - set above
        for n in range(per_course):
            if made >= wanted:
                break
            code, _, top, typical = rng.choices(
                INSTRUMENTS, [i[1] for i in INSTRUMENTS]
            )[0]
            offset = rng.uniform(-25, 200)
            improvement = max(0.0, offset) / 200 * rng.uniform(0, 0.8)
            total = round(
                max(0, min(top, typical * (1 - improvement) + rng.gauss(0, top / 10)))
            )
            batch.append(
                QuestionnaireResponse(
                    patient_id=course.patient_id, instrument=code, instrument_version="1",
                    answers=[], total=Decimal(total), is_complete=True, source="portal",
                    authored_at=first_dose + timedelta(days=offset, minutes=n),
                    submission_key=uuid.uuid4().hex,
                )
            )  # fmt: skip
            made += 1
            if len(batch) >= 10_000:
                QuestionnaireResponse.objects.bulk_create(batch)
                batch = []
    QuestionnaireResponse.objects.bulk_create(batch)
    return len(courses), QuestionnaireResponse.objects.count()


def measure(iterations: int) -> tuple[float, float, int, int, float, float]:
    """The page, then its data statements alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.pages import signed_in
    from kapcare.outcomes.services import CohortFilters, analytic_queries, dashboard
    from kapcare.patients.demo import DEMO_DOMAIN

    client = signed_in(f"physician@{DEMO_DOMAIN}")
    today = timezone.localdate()
    query = {
        "starts_on": (today - timedelta(days=364)).isoformat(),
        "ends_on": today.isoformat(),
    }
    page: list[float] = []
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/outcomes/", query).status_code == 200  # noqa: S101
    page_queries = len(captured.captured_queries)
    for _ in range(iterations):
        started = time.perf_counter()
        response = client.get("/outcomes/", query)
        page.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200  # noqa: S101

    statements: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    filters = CohortFilters(
        starts_on=date.fromisoformat(query["starts_on"]), ends_on=today
    )
    with connection.execute_wrapper(record):
        dashboard(filters)
    alone: list[float] = []
    for _ in range(iterations):
        started = time.perf_counter()
        # as the page runs them (on PostgreSQL in the transaction that turns JIT off)
        with analytic_queries(), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description is not None:  # not SET LOCAL
                    cursor.fetchall()
        alone.append((time.perf_counter() - started) * 1000)
    return (
        percentile(page, 50), percentile(page, 95), page_queries, len(statements),
        percentile(alone, 50), percentile(alone, 95),
    )  # fmt: skip


def run(patients: int, responses: int, iterations: int) -> OutcomeFigures:
    from bench import database
    from kapcare.patients.demo import seed_demo
    from kapcare.treatment.models import TreatmentCourse

    with database.scratch_database():
        started = time.perf_counter()
        seed_demo(patients=patients)
        _, stored = seed(patients, responses, random.Random(17))
        seed_seconds = time.perf_counter() - started
        database.analyze()
        figures = measure(iterations)
        return OutcomeFigures(
            database.describe(), patients, TreatmentCourse.objects.count(), stored,
            round(seed_seconds, 1), *figures,
        )  # fmt: skip


def report(f: OutcomeFigures) -> str:
    return (
        f"Outcome dashboard ({f.database}): {f.patients:,} patients, {f.courses:,} courses, "
        f"{f.responses:,} responses, seeded in {f.seed_seconds:.0f} s\n"
        f"  page      p50 {f.page_p50_ms:8.1f} ms   p95 {f.page_p95_ms:8.1f} ms   "
        f"{f.page_queries} queries\n"
        f"  SQL alone p50 {f.sql_p50_ms:8.1f} ms   p95 {f.sql_p95_ms:8.1f} ms   "
        f"the dashboard's {f.sql_statements} data statements, re-executed through the driver\n"
        f"  ratio page/SQL: p95 {f.ratio_p95:.2f}x, p50 {f.ratio_p50:.2f}x (target < 1.5x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outcomes", description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")
    django.setup()
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_STORAGE}}
    with override_settings(DEBUG=False, STORAGES=storages):
        figures = run(args.patients, args.responses, args.iterations)
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
