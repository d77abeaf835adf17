"""The clinic outcome dashboard (physicians and the clinic admin)."""

import uuid
from smtplib import SMTPException
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Action, Context, Information, record_event
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.outcomes import export, report, services
from kapcare.outcomes.definitions import BASELINE_WINDOW_DAYS
from kapcare.outcomes.forms import DashboardForm, ExportForm, ReportForm, default_period
from kapcare.outcomes.models import ReportDelivery
from kapcare.patients.access import get_patient_for_user
from kapcare.patients.models import Patient

VIEW = "outcomes.view_clinic_outcomes"
IDENTIFY = "outcomes.export_identifiable"


def _with_period(data: QueryDict) -> QueryDict:
    """The filters asked for; without a period, the last twelve months."""
    starts, ends = default_period()
    query = data.copy()
    query.setdefault("starts_on", starts.isoformat())
    query.setdefault("ends_on", ends.isoformat())
    return query


@staff_permission_required(VIEW)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DashboardForm(_with_period(request.GET))
    if not form.is_valid():
        response = render(request, "outcomes/dashboard.html", {"form": form})
        response.status_code = 400
        return response
    filters = form.filters()
    record_event(
        request=request, action=Action.VIEW, object_type="outcome_dashboard",
        summary="Viewed the clinic outcome dashboard (aggregates, no patient shown)",
        detail=filters.as_dict(),
    )  # fmt: skip
    result = services.dashboard(filters)
    export_form = ExportForm(
        initial=form.cleaned_data, may_identify=request.user.has_perm(IDENTIFY)
    )
    return render(
        request, "outcomes/dashboard.html",
        {"form": form, "result": result, "baseline_days": BASELINE_WINDOW_DAYS,
         "export_form": export_form},
    )  # fmt: skip


@staff_permission_required(VIEW)
@require_POST
def cohort_csv(
    request: AuthenticatedHttpRequest,
) -> HttpResponse | StreamingHttpResponse:
    """The cohort as CSV; the export and its audit events are written first."""
    form = ExportForm(
        _with_period(request.POST), may_identify=request.user.has_perm(IDENTIFY)
    )
    if not form.is_valid():
        return render(
            request, "outcomes/export_refused.html", {"form": form}, status=400
        )
    filters = form.filters()
    identifiable = bool(form.cleaned_data.get("identifiable"))
    context = Context.from_request(request)
    response: HttpResponse | StreamingHttpResponse
    try:
        if identifiable:
            response = HttpResponse(
                export.identifiable_export(
                    context=context, by=request.user, filters=filters,
                    reason=form.cleaned_data.get("reason", ""),
                ),
                content_type="text/csv; charset=utf-8",
            )  # fmt: skip
        else:
            response = StreamingHttpResponse(
                export.pseudonymised_export(
                    context=context, by=request.user, filters=filters
                ),
                content_type="text/csv; charset=utf-8",
            )
    except export.ExportError as exc:
        form.add_error(None, str(exc))
        return render(
            request, "outcomes/export_refused.html", {"form": form}, status=400
        )
    kind = "identifiable" if identifiable else "pseudonymised"
    name = f"kapcare-outcomes-{kind}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


REPORT = "treatment.sign_dosingsession"


@staff_permission_required(REPORT)
def progress_report(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    """Preview (GET, or POST "preview"), download as PDF, or send to the referrer.
    Physicians only: the report is signed in their name."""
    action = (
        request.POST.get("do", "preview") if request.method == "POST" else "preview"
    )
    if action not in ("preview", "pdf", "send"):
        action = "preview"
    # The read is recorded now; a download or a sending only once it happens.
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Previewed the progress report",
    )  # fmt: skip
    courses = report.courses_of(patient)
    if request.method == "POST":
        form = ReportForm(request.POST, courses=courses)
    else:  # a bookmarkable preview of a chosen course, with a fresh sending key
        query = request.GET.copy()
        query["submission_key"] = uuid.uuid4().hex
        form = ReportForm(query, courses=courses)
    ready = form.check_for(action) if request.method == "POST" else False
    data = form.cleaned_data if form.is_valid() else {}
    try:
        progress = report.build_report(
            patient=patient, physician=request.user, plan=data.get("plan", ""),
            course_id=data.get("course") or None,
        )  # fmt: skip
    except report.ReportError as exc:
        form.add_error("course", str(exc))
        ready = False
        progress = report.build_report(patient=patient, physician=request.user, plan="")
    if ready and action == "pdf":
        response = HttpResponse(
            report.render_pdf(progress), content_type="application/pdf"
        )
        record_event(
            request=request, action=Action.PRINT, patient=patient,
            information=Information.CLINICAL, object_type="progress_report",
            summary="Downloaded the progress report (PDF)",
        )  # fmt: skip
        name = f"progress-report-{patient.mrn}-{timezone.localdate():%Y%m%d}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
    if ready and action == "send":
        return _send(request, patient, progress, data)
    status = (
        400 if request.method == "POST" and action != "preview" and not ready else 200
    )
    return render(
        request, "outcomes/progress_report.html",
        {"patient": patient, "form": form, "report": progress, "tab": "measures"},
        status=status,
    )  # fmt: skip


def _send(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    progress: report.ProgressReport,
    data: dict[str, Any],
) -> HttpResponse:
    """Claim the form's key first (unique in the database), so two quick clicks
    send one email; a refused send releases it for another try."""
    key = data.get("submission_key") or ""
    to = data["referrer_email"]
    if not key:
        messages.error(request, "Reload the page and send again.")
        return redirect("outcomes:progress_report", patient.pk)
    try:
        with transaction.atomic():
            delivery = ReportDelivery.objects.create(
                patient=patient, sent_by=request.user, to=to, submission_key=key
            )
    except IntegrityError:
        messages.info(request, "That report was already sent.")
        return redirect("outcomes:progress_report", patient.pk)
    try:
        report.send_report(progress, to=to)
    except (OSError, SMTPException) as exc:
        delivery.delete()
        messages.error(request, f"The report could not be sent ({exc}); try again.")
        return redirect("outcomes:progress_report", patient.pk)
    record_event(
        request=request, action=Action.EXPORT, patient=patient,
        information=Information.CLINICAL, object_type="progress_report",
        object_id=delivery.pk, summary=f"Emailed the progress report to {to}",
    )  # fmt: skip
    messages.success(request, f"Report sent to {to}.")
    return redirect("outcomes:progress_report", patient.pk)
