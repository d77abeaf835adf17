import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.audit.services import Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.charts import Point, progress_svg
from kapcare.measures.forms import PatientAnswersForm, ResponseEntryForm, SendLinkForm
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.outcomes import Outcome, OutcomeError, outcome
from kapcare.measures.scoring import ScoringError
from kapcare.measures.services import (
    LinkUnusableError,
    SubmissionKeyReusedError,
    complete_questionnaire_link,
    find_questionnaire_link,
    send_questionnaire_link,
    submit_questionnaire_response,
)
from kapcare.patients.access import get_patient_for_user
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert

CLINICAL = "patients.view_clinical_record"


def _instrument(code: str) -> Instrument:
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404("No such instrument")
    return instrument


@staff_permission_required()
def instrument_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The instrument library: what Kapcare scores and on whose authority."""
    instruments = sorted(INSTRUMENTS.values(), key=lambda i: i.name)
    return render(
        request, "measures/instrument_list.html", {"instruments": instruments}
    )


@staff_permission_required()
def instrument_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    return render(
        request, "measures/instrument_detail.html", {"instrument": _instrument(code)}
    )


@dataclass(frozen=True)
class Progress:
    instrument: Instrument
    svg: str
    baseline: float
    latest: float
    outcome: Outcome | None


def _progress(patient: Patient) -> list[Progress]:
    """Per instrument with scored results: the chart and baseline-to-latest outcome.

    One query for all of the patient's totals, whatever their number.
    """
    rows = (
        QuestionnaireResponse.objects.filter(patient=patient, total__isnull=False)
        .exclude(status=QuestionnaireResponse.Status.ENTERED_IN_ERROR)
        .order_by("authored_at")
        .values_list("instrument", "authored_at", "total", "band")
    )
    series: dict[str, list[Point]] = {}
    for code, authored_at, total, band in rows:
        if total is None:
            continue
        day = timezone.localtime(authored_at).date()
        series.setdefault(code, []).append(Point(day, float(total), band))
    progress = []
    for code, points in sorted(series.items()):
        instrument = INSTRUMENTS.get(code)
        if instrument is None:
            continue
        try:
            result: Outcome | None = outcome(
                code, baseline=points[0].total, final=points[-1].total
            )
        except (OutcomeError, KeyError):
            result = None
        # progress_svg escapes every text it writes; the markup itself is ours.
        svg = mark_safe(progress_svg(instrument, points, chart_id=f"chart-{code}"))  # noqa: S308
        progress.append(
            Progress(instrument, svg, points[0].total, points[-1].total, result)
        )
    return progress


@staff_permission_required(CLINICAL)
def patient_measures(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Viewed questionnaire results",
    )
    responses = QuestionnaireResponse.objects.filter(patient=patient).select_related(
        "entered_by"
    )
    page = Paginator(responses, 25).get_page(request.GET.get("page"))
    context = {
        "patient": patient, "tab": "measures", "page": page, "progress": _progress(patient),
        "instruments": sorted(INSTRUMENTS.values(), key=lambda i: i.name),
        "send_form": SendLinkForm(instruments=_self_rated()),
    }  # fmt: skip
    return render(request, "measures/patient_measures.html", context)


@staff_permission_required(CLINICAL)
def response_create(
    request: AuthenticatedHttpRequest, patient_id: str, code: str
) -> HttpResponse:
    """Enter a clinician-rated scale or a paper questionnaire on the patient's behalf."""
    instrument = _instrument(code)
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary=f"Opened {instrument.name} entry",
    )
    form = ResponseEntryForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        authored_at = timezone.make_aware(
            dt.datetime.combine(form.cleaned_data["authored_on"], dt.time(12))
        )
        try:
            response, created = submit_questionnaire_response(
                request=request, patient=patient, instrument=code, answers=form.answers(),
                source=form.cleaned_data["source"], entered_by=request.user,
                submission_key=form.cleaned_data["submission_key"], authored_at=authored_at,
            )  # fmt: skip
        except SubmissionKeyReusedError as exc:
            data = request.POST.copy()
            data["submission_key"] = uuid.uuid4().hex
            form = ResponseEntryForm(data, instrument=instrument)
            form.is_valid()
            form.add_error(
                None, f"{exc} The answers below are kept: check them and save again."
            )
        except ScoringError as exc:
            form.add_error(None, str(exc))
        else:
            total = response.total_display or "not scorable"
            note = "" if created else " (this form was already saved)"
            messages.success(request, f"{instrument.name} saved{note}: total {total}.")
            if SafetyAlert.objects.filter(
                source_type="questionnaire_response", source_id=str(response.pk)
            ).exists():
                messages.warning(
                    request, "A safety alert was raised; see the chart header."
                )
            return redirect("measures:patient_measures", patient_id=patient.pk)
    context = {
        "patient": patient,
        "tab": "measures",
        "form": form,
        "instrument": instrument,
    }
    return render(request, "measures/response_form.html", context)


def _self_rated() -> list[Instrument]:
    return sorted(
        (i for i in INSTRUMENTS.values() if not i.is_clinician_rated),
        key=lambda i: i.name,
    )


@staff_permission_required(CLINICAL)
@require_POST
def link_send(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Opened chart to send a questionnaire",
    )
    form = SendLinkForm(request.POST, instruments=_self_rated())
    if not form.is_valid():
        messages.error(request, "Choose a questionnaire the patient fills in.")
    else:
        try:
            link = send_questionnaire_link(
                request=request,
                patient=patient,
                instrument=form.cleaned_data["instrument"],
                sent_by=request.user,
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            until = timezone.localtime(link.expires_at)
            messages.success(
                request,
                f"Questionnaire emailed to {link.sent_to}; the link works once, until {until:%Y-%m-%d %H:%M}.",
            )
    return redirect("measures:patient_measures", patient_id=patient.pk)


@otp_exempt
@login_not_required
def link_fill(request: HttpRequest, token: str) -> HttpResponse:
    """A patient fills in a questionnaire from an emailed link (no sign-in)."""
    link = find_questionnaire_link(token)
    if link is None or not link.is_usable():
        return render(
            request, "measures/link_invalid.html", status=410 if link else 404
        )
    instrument = _instrument(link.instrument)
    form = PatientAnswersForm(
        request.POST if request.method == "POST" else None, instrument=instrument
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = complete_questionnaire_link(
                request=request, link=link, answers=form.answers()
            )
        except LinkUnusableError:
            return render(request, "measures/link_invalid.html", status=410)
        except ScoringError as exc:
            form.add_error(None, str(exc))
        else:
            alerted = SafetyAlert.objects.filter(
                source_type="questionnaire_response", source_id=str(response.pk)
            ).exists()
            return render(
                request,
                "measures/link_done.html",
                {"alerted": alerted, "instrument": instrument},
            )
    return render(
        request, "measures/link_fill.html", {"form": form, "instrument": instrument}
    )
