"""The patient progress report for the referring clinician: letterhead, identity,
course summary, score charts and outcomes, adverse events, the physician's plan and
signature. One template serves the HTML preview and the PDF (WeasyPrint), so the
two cannot differ; the charts are the chart's own SVG (kapcare/measures/charts.py).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.views import Progress, progress_for
from kapcare.patients.models import Patient
from kapcare.treatment.models import AdverseEvent, TreatmentCourse
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
        figures = TreatmentCourse.objects.filter(pk=chosen.pk).aggregate(
            doses=Count("sessions", filter=dosed),
            per_kg=Avg("sessions__dose_mg_per_kg", filter=dosed),
            mg=Avg("sessions__dose_mg", filter=dosed),
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
    )


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
        subject=f"Progress report: {patient.legal_family_name}, {patient.legal_given_name}",
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
