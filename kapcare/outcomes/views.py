"""The clinic outcome dashboard (physicians and the clinic admin)."""

from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Action, Context, record_event
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.outcomes import export, services
from kapcare.outcomes.definitions import BASELINE_WINDOW_DAYS
from kapcare.outcomes.forms import DashboardForm, ExportForm, default_period

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
    try:
        export.record_export(
            context=Context.from_request(request), by=request.user, filters=filters,
            identifiable=identifiable, reason=form.cleaned_data.get("reason", ""),
        )  # fmt: skip
    except export.ExportError as exc:
        form.add_error(None, str(exc))
        return render(
            request, "outcomes/export_refused.html", {"form": form}, status=400
        )
    kind = "identifiable" if identifiable else "pseudonymised"
    name = f"kapcare-outcomes-{kind}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        export.csv_lines(filters, identifiable), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
