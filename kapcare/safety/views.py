from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_patient_for_user, record_patients_listed
from kapcare.safety import services
from kapcare.safety.forms import AcknowledgeForm, ResolveForm, RiskFlagForm
from kapcare.safety.models import SafetyAlert

CLINICAL = "patients.view_clinical_record"


def _alert_for(
    request: AuthenticatedHttpRequest, alert_id: str, summary: str
) -> SafetyAlert:
    alert = get_object_or_404(
        SafetyAlert.objects.select_related("patient"), pk=alert_id
    )
    get_patient_for_user(
        request, alert.patient_id, information=Information.CLINICAL, summary=summary
    )
    return alert


def _form_errors(form: AcknowledgeForm | ResolveForm | RiskFlagForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@staff_permission_required(CLINICAL)
@require_POST
def alert_acknowledge(request: AuthenticatedHttpRequest, alert_id: str) -> HttpResponse:
    alert = _alert_for(request, alert_id, "Opened a safety alert to acknowledge it")
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not acknowledged: {_form_errors(form)}")
    else:
        try:
            services.acknowledge_safety_alert(
                request=request, alert=alert, action=form.cleaned_data["action"],
                note=form.cleaned_data["note"], by=request.user,
            )  # fmt: skip
            messages.success(request, "Alert acknowledged.")
        except services.AlertStateError as exc:
            messages.info(request, str(exc))
    return redirect(alert.patient)


@staff_permission_required(CLINICAL)
@require_POST
def alert_resolve(request: AuthenticatedHttpRequest, alert_id: str) -> HttpResponse:
    alert = _alert_for(request, alert_id, "Opened a safety alert to resolve it")
    form = ResolveForm(request.POST)
    if alert.state == SafetyAlert.State.OPEN:
        messages.error(
            request,
            "Acknowledge the alert, with the action you took, before resolving it.",
        )
    elif not form.is_valid():
        messages.error(request, f"Not resolved: {_form_errors(form)}")
    else:
        try:
            services.resolve_safety_alert(
                request=request, alert=alert, resolution=form.cleaned_data["resolution"],
                note=form.cleaned_data["note"], by=request.user,
            )  # fmt: skip
            messages.success(request, "Alert resolved.")
        except services.AlertStateError as exc:
            messages.info(request, str(exc))
    return redirect(alert.patient)


@staff_permission_required(CLINICAL)
@require_POST
def risk_flag(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Opened chart to flag a risk",
    )
    form = RiskFlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No alert raised: {_form_errors(form)}")
    else:
        services.raise_safety_alert(
            request=request, patient=patient, level=form.cleaned_data["level"],
            trigger=SafetyAlert.Trigger.MANUAL, reason=form.cleaned_data["reason"],
            raised_by=request.user, source_type="manual_flag",
            source_id=form.cleaned_data["submission_key"],
        )  # fmt: skip
        messages.success(request, "Safety alert raised.")
    return redirect(patient)


@staff_permission_required(CLINICAL)
def alert_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every unresolved alert in the clinic, most urgent and oldest first."""
    alerts = (
        SafetyAlert.objects.unresolved()
        .by_urgency()
        .select_related("patient", "acknowledged_by")
    )
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    record_patients_listed(
        request, {a.patient for a in page}, summary="Listed in the safety alert queue"
    )
    return render(request, "safety/alert_queue.html", {"page": page})
