"""The patient progress report for the referring clinician: letterhead, identity,
course summary, score charts and outcomes, adverse events, the physician's plan and
signature. One template serves the HTML preview and the PDF (WeasyPrint), so the
two cannot differ; the charts are the chart's own SVG (kapcare/measures/charts.py).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.outcomes import Outcome, Programme, outcome
from kapcare.measures.progress import Progress, progress_for
from kapcare.patients.models import Patient
from kapcare.treatment.models import AdverseEvent, Drug, TreatmentCourse
from kapcare.website.models import ClinicProfile, StaffProfile, get_clinic_profile


class ReportError(ValueError):
    """The report cannot be made as asked; the message says why."""


@dataclass
class CourseSummary:
    course: TreatmentCourse
    doses: int
    mean_dose_per_kg: Decimal | None
    mean_dose_mg: Decimal | None
    last_dose_on: date | None


@dataclass(frozen=True)
class ScoreRow:
    """One questionnaire over the chosen course: its baseline (the 30 days up to
    the first dose) and latest score, as on the clinic dashboard."""

    name: str
    baseline: float
    latest: float
    latest_on: date
    outcome: Outcome


@dataclass
class ProgressReport:
    clinic: ClinicProfile
    patient: Patient
    course: CourseSummary | None
    progress: list[Progress]
    adverse_events: list[AdverseEvent]
    plan: str
    physician: User
    credentials: str
    dated: date
    courses: list[TreatmentCourse] = field(default_factory=list)
    rows: list[ScoreRow] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        return {"report": self}


def courses_of(patient: Patient) -> list[TreatmentCourse]:
    """The patient's dosed courses, newest first."""
    return list(
        TreatmentCourse.objects.filter(patient=patient, first_dose_at__isnull=False)
        .select_related("protocol", "prescriber")
        .order_by("-first_dose_at")
    )


def build_report(
    *, patient: Patient, physician: User, plan: str, course_id: str | None = None
) -> ProgressReport:
    courses = courses_of(patient)
    chosen = courses[0] if courses else None
    if course_id:
        chosen = next((c for c in courses if str(c.pk) == str(course_id)), None)
        if chosen is None:
            raise ReportError("That course is not one of this patient's dosed courses.")
    summary = None
    events: list[AdverseEvent] = []
    if chosen is not None:
        dosed = Q(sessions__dose_started_at__isnull=False)
        given = Coalesce("sessions__dose_given_mg", "sessions__dose_mg")
        figures = TreatmentCourse.objects.filter(pk=chosen.pk).aggregate(
            doses=Count("sessions", filter=dosed),
            # a stopped infusion counts for the dose it gave, per kg of that day's weight
            per_kg=Avg(
                ExpressionWrapper(given / F("sessions__weight_kg"), DecimalField()),
                filter=dosed & Q(sessions__weight_kg__gt=0),
            ),
            mg=Avg(given, filter=dosed),
        )
        last = (
            chosen.sessions.filter(dose_started_at__isnull=False)
            .order_by("-dose_started_at")
            .values_list("dose_started_at", flat=True)
            .first()
        )
        summary = CourseSummary(
            course=chosen,
            doses=figures["doses"],
            mean_dose_per_kg=_round(figures["per_kg"], "0.001"),
            mean_dose_mg=_round(figures["mg"], "0.1"),
            last_dose_on=timezone.localtime(last).date() if last else None,
        )
        events = list(
            AdverseEvent.objects.filter(session__course=chosen)
            .select_related("session")
            .order_by("occurred_at")
        )
    profile = StaffProfile.objects.filter(user=physician).first()
    return ProgressReport(
        clinic=get_clinic_profile(),
        patient=patient,
        course=summary,
        progress=progress_for(patient),
        adverse_events=events,
        plan=plan.strip(),
        physician=physician,
        credentials=profile.credentials if profile else "",
        dated=timezone.localdate(),
        courses=courses,
        rows=course_scores(chosen) if chosen is not None else [],
    )


def course_scores(course: TreatmentCourse) -> list[ScoreRow]:
    """Baseline and latest per questionnaire for one course, by the dashboard's own
    queries, with response and remission by the course's programme (MADRS
    remission: <= 12 for esketamine, <= 10 for ketamine; clinical rules §6)."""
    from kapcare.measures.scoring import get_instrument
    from kapcare.outcomes.definitions import DASHBOARD_INSTRUMENTS
    from kapcare.outcomes.services import CohortFilters, scored_cohort

    assert course.first_dose_at is not None  # noqa: S101 - only dosed courses
    filters = CohortFilters(
        starts_on=timezone.localdate(course.first_dose_at), ends_on=timezone.localdate()
    )
    programme: Programme = (
        "esketamine" if course.protocol.drug == Drug.ESKETAMINE else "ketamine"
    )
    rows = []
    for code in DASHBOARD_INSTRUMENTS:
        found = scored_cohort(filters, code).filter(pk=course.pk).first()
        if (
            not found
            or found["baseline_total"] is None
            or found["latest_total"] is None
        ):
            continue
        base, latest = float(found["baseline_total"]), float(found["latest_total"])
        rows.append(
            ScoreRow(
                get_instrument(code).name, base, latest,
                timezone.localdate(found["latest_at"]),
                outcome(code, baseline=base, final=latest, programme=programme),
            )
        )  # fmt: skip
    return rows


def _round(value: Any, step: str) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(step))


def render_pdf(report: ProgressReport) -> bytes:
    """The report as PDF; WeasyPrint draws the same template and SVG charts."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = render_to_string("outcomes/progress_report_pdf.html", report.context())
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf


def send_report(report: ProgressReport, *, to: str) -> None:
    """Email the PDF to the referrer, from the clinic (sent now, so a failure shows)."""
    from django.core.mail import EmailMessage

    patient = report.patient
    message = EmailMessage(
        subject=f"Progress report from {report.clinic.name}",
        body=(
            f"Please find attached the progress report from {report.clinic.name}, "
            f"signed by {report.physician.display_name} on {report.dated:%Y-%m-%d}.\n"
        ),
        to=[to],
    )
    message.attach(
        f"progress-report-{patient.mrn}.pdf", render_pdf(report), "application/pdf"
    )
    message.send()
