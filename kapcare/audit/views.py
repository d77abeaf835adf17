import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.forms import AuditSearchForm
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import record_patients_listed
from kapcare.patients.models import Patient


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@staff_permission_required("audit.view_auditevent")
def event_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Search the audit log by patient, user, action and date (clinic admin)."""
    form = AuditSearchForm(request.GET or None)
    events = AuditEvent.objects.select_related("patient").order_by("-seq")
    matched_patients: list[Patient] = []
    if form.is_valid():
        data = form.cleaned_data
        if data["patient"]:
            matched_patients = list(Patient.objects.search(data["patient"])[:20])
            events = events.filter(patient__in=[p.pk for p in matched_patients])
        if data["user"]:
            events = events.filter(actor_label__icontains=data["user"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["date_from"]:
            events = events.filter(occurred_at__gte=_day_start(data["date_from"]))
        if data["date_to"]:
            events = events.filter(
                occurred_at__lt=_day_start(data["date_to"] + dt.timedelta(days=1))
            )
    record_event(
        request=request,
        action=Action.SEARCH,
        information=Information.ACCESS_LOG,
        object_type="audit_log",
        summary="Searched the audit log",
        detail={
            k: str(v)
            for k, v in (form.cleaned_data if form.is_valid() else {}).items()
            if v
        },
    )
    record_patients_listed(
        request, matched_patients, summary="Looked up in the audit log"
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "matched_patients": matched_patients}
    return render(request, "audit/event_list.html", context)
