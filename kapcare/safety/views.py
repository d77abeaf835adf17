from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_patient_for_user, record_patients_listed
from kapcare.patients.models import Patient
from kapcare.safety import services
from kapcare.safety.caseload import (
    caseload_queryset,
    caseload_rows,
    has_own_patients,
)
from kapcare.safety.deadlines import ON_CALL
from kapcare.safety.escalation import due_times, on_call_at
from kapcare.safety.forms import (
    AcknowledgeForm,
    CaseloadFilterForm,
    OnCallShiftForm,
    ResolveForm,
    RiskFlagForm,
    SafetyPlanForm,
)
from kapcare.safety.models import OnCallShift, SafetyAlert, SafetyPlanVersion
from kapcare.safety.plans import (
    SECTION_NAMES,
    StalePlanError,
    current_plan,
    save_safety_plan,
)
from kapcare.website.models import get_clinic_profile

CLINICAL = "patients.view_clinical_record"
ROTA_ADD = "safety.add_oncallshift"
ROTA_DELETE = "safety.delete_oncallshift"


def _alert_for(
    request: AuthenticatedHttpRequest, alert_id: str, summary: str
) -> SafetyAlert:
    alert = get_object_or_404(
        SafetyAlert.objects.select_related("patient", "consultation_request"),
        pk=alert_id,
    )
    if alert.patient_id is not None:
        get_patient_for_user(
            request, alert.patient_id, information=Information.CLINICAL, summary=summary
        )
    else:
        record_event(
            request=request,
            action=Action.VIEW,
            information=Information.CLINICAL,
            object_type="consultation_request",
            object_id=alert.consultation_request_id or "",
            summary=summary,
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
    return redirect(alert.get_subject_url())


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
    return redirect(alert.get_subject_url())


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
    """The clinic's open alerts (or those acknowledged but not yet resolved), most
    urgent and oldest first."""
    showing = "acknowledged" if request.GET.get("state") == "acknowledged" else "open"
    alerts = (
        SafetyAlert.objects.filter(state=showing)
        .by_urgency()
        .select_related("patient", "consultation_request", "acknowledged_by")
        .prefetch_related("notifications__recipient")
    )
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    record_patients_listed(
        request,
        {a.patient for a in page if a.patient is not None},
        summary="Listed in the safety alert queue",
    )
    clinic = get_clinic_profile()
    now = timezone.now()
    rows = []
    for alert in page:
        due = due_times(alert, clinic)[ON_CALL]
        rows.append((alert, due, alert.state == SafetyAlert.State.OPEN and due <= now))
    context = {
        "page": page, "rows": rows, "on_call": on_call_at(now), "showing": showing,
    }  # fmt: skip
    return render(request, "safety/alert_queue.html", context)


@staff_permission_required()
def on_call(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The on-call rota: who is paged now, and the shifts to come."""
    form = OnCallShiftForm() if request.user.has_perm(ROTA_ADD) else None
    return _rota_page(request, form)


@staff_permission_required(ROTA_ADD)
@require_POST
def on_call_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OnCallShiftForm(request.POST)
    if form.is_valid():
        shift = services.add_on_call_shift(
            request=request, shift=form.save(commit=False), by=request.user
        )
        messages.success(
            request, f"{shift.physician.display_name} is on call {shift.period}."
        )
        return redirect("safety:on_call")
    return _rota_page(request, form)


def _rota_page(
    request: AuthenticatedHttpRequest, form: OnCallShiftForm | None
) -> HttpResponse:
    now = timezone.now()
    shifts = (
        OnCallShift.objects.filter(ends_at__gt=now)
        .select_related("physician")
        .order_by("starts_at")
    )
    page = Paginator(shifts, 25).get_page(request.GET.get("page"))
    context = {"page": page, "now_on_call": on_call_at(now), "form": form}
    return render(request, "safety/on_call.html", context)


@staff_permission_required(ROTA_DELETE)
@require_POST
def on_call_remove(request: AuthenticatedHttpRequest, shift_id: str) -> HttpResponse:
    shift = get_object_or_404(
        OnCallShift.objects.select_related("physician"), pk=shift_id
    )
    services.remove_on_call_shift(request=request, shift=shift)
    messages.success(request, f"Shift removed for {shift.physician.display_name}.")
    return redirect("safety:on_call")


@staff_permission_required(CLINICAL)
def caseload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinician's home: open alerts first, then where each patient stands."""
    form = CaseloadFilterForm(request.GET)
    mine_default = "mine" if has_own_patients(request.user) else "all"
    patients = caseload_queryset(
        request.user,
        scope=form.value("scope", mine_default),
        phase=form.value("phase", ""),
        flag=form.value("flag", ""),
        query=form.value("q", "").strip(),
        sort=form.value("sort", "alerts"),
    )
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    rows = caseload_rows(list(page))
    record_patients_listed(
        request, [row.patient for row in rows], summary="Listed in the caseload"
    )
    context = {
        "form": form, "page": page, "rows": rows,
        "scope": form.value("scope", mine_default), "refreshed_at": timezone.now(),
    }  # fmt: skip
    template = (
        "safety/partials/caseload_table.html"
        if request.headers.get("HX-Request") == "true"
        else "safety/caseload.html"
    )
    return render(request, template, context)


def _plan_context(patient: Patient, version: str | None) -> dict[str, object]:
    versions = list(
        SafetyPlanVersion.objects.filter(patient=patient)
        .select_related("created_by")
        .order_by("-version")
    )
    chosen = versions[0] if versions else None
    if version and version.isdigit():
        chosen = next((v for v in versions if v.version == int(version)), chosen)
    return {"patient": patient, "plan": chosen, "versions": versions}


@staff_permission_required(CLINICAL)
def safety_plan(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Viewed the safety plan",
    )  # fmt: skip
    context = {**_plan_context(patient, request.GET.get("version")), "tab": "plan"}
    return render(request, "safety/safety_plan.html", context)


@staff_permission_required(CLINICAL)
def safety_plan_edit(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    """Write the next version, starting from the current one."""
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Opened the safety plan to revise it",
    )  # fmt: skip
    latest = current_plan(patient)
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            try:
                plan = save_safety_plan(
                    request=request, patient=patient, texts=form.cleaned_data,
                    written_with_patient=form.cleaned_data["written_with_patient"],
                    based_on=form.cleaned_data["based_on"], by=request.user,
                )  # fmt: skip
            except StalePlanError as exc:
                data = request.POST.copy()
                data["based_on"] = str(latest.version if latest else 0)
                form = SafetyPlanForm(data)
                form.is_valid()
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Safety plan version {plan.version} saved.")
                return redirect("safety:safety_plan", patient_id=patient.pk)
    else:
        initial: dict[str, object] = {"based_on": latest.version if latest else 0}
        if latest is not None:
            initial |= {name: getattr(latest, name) for name in SECTION_NAMES}
        else:
            clinic = get_clinic_profile()
            initial["professionals"] = (
                "Suicide Crisis Helpline: call or text 9-8-8 (any time)\n"
                "Emergency: 9-1-1\n"
                f"{clinic.name}: {clinic.phone_display or 'clinic phone'}"
            )
        form = SafetyPlanForm(initial=initial)
    context = {"patient": patient, "tab": "plan", "form": form, "latest": latest}
    return render(request, "safety/safety_plan_form.html", context)


@staff_permission_required(CLINICAL)
def safety_plan_print(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Opened the safety plan to print it", action=Action.PRINT,
    )  # fmt: skip
    context = _plan_context(patient, request.GET.get("version"))
    return render(request, "safety/safety_plan_print.html", context)
