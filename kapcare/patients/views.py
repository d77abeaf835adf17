from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import Action, Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients import services
from kapcare.patients.access import (
    chart_information,
    get_patient_for_user,
    get_patient_for_user_rw,
    record_patients_listed,
)
from kapcare.patients.forms import PatientForm
from kapcare.patients.history import history_entries
from kapcare.patients.models import Patient

PAGE_SIZE = 25


@staff_permission_required("patients.view_patient")
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    patients = Patient.objects.search(query).only(
        "id", "mrn", "legal_given_name", "legal_family_name", "preferred_name", "pronouns",
        "born_on", "health_number", "health_version_code", "status",
    )  # fmt: skip
    if status in Patient.Status.values:
        patients = patients.filter(status=status)
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    record_patients_listed(
        request,
        page,
        summary=f"Listed on patient list page {page.number}"
        + (f", search {query!r}" if query else ""),
    )
    context = {
        "page": page,
        "query": query,
        "status": status,
        "statuses": Patient.Status.choices,
    }
    template = (
        "patients/partials/patient_rows.html"
        if request.htmx
        else "patients/patient_list.html"
    )
    return render(request, template, context)


@staff_permission_required("patients.view_patient")
def patient_detail(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=chart_information(request.user)
    )
    return render(
        request, "patients/patient_detail.html", {"patient": patient, "tab": "overview"}
    )


@staff_permission_required("patients.view_patient")
def patient_history(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.HISTORY,
        summary="Viewed change history",
    )
    events = AuditEvent.objects.filter(
        object_type="patient",
        object_id=str(patient.pk),
        action__in=[Action.CREATE, Action.UPDATE],
    ).order_by("-seq")
    page = Paginator(events, 20).get_page(request.GET.get("page"))
    context = {
        "patient": patient,
        "tab": "history",
        "page": page,
        "entries": history_entries(page),
    }
    return render(request, "patients/patient_history.html", context)


@staff_permission_required("patients.add_patient")
def patient_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = services.create_patient(
            request=request, fields=form.model_fields(), created_by=request.user
        )
        messages.success(
            request, f"Chart {patient.mrn} created for {patient.display_name}."
        )
        return redirect(patient)
    return render(request, "patients/patient_form.html", {"form": form})


@staff_permission_required("patients.change_patient")
def patient_edit(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user_rw(request, patient_id)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_patient(
                request=request,
                patient=patient,
                fields=form.model_fields(),
                changed_by=request.user,
                loaded_at=form.cleaned_data["loaded_at"],
            )
        except services.StaleEditError as exc:
            data = request.POST.copy()
            data["loaded_at"] = Patient.objects.get(
                pk=patient.pk
            ).updated_at.isoformat()
            form = PatientForm(data, instance=patient)
            form.is_valid()
            form.add_error(
                None,
                f"{exc.changed_by} saved this chart after you opened it. Your changes are "
                "still in the form below: compare them with the chart, then save again.",
            )
        else:
            messages.success(request, "Saved." if changes else "Nothing changed.")
            return redirect(patient)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient}
    )


@staff_permission_required("patients.invite_patient")
@require_POST
def patient_invite(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, summary="Opened chart to send a portal invitation"
    )
    try:
        invitation = services.invite_patient_to_portal(
            request=request, patient=patient, invited_by=request.user
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Invitation emailed to {invitation.sent_to}. The link works once, until "
            f"{timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M}.",
        )
    return redirect(patient)
