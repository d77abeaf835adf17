import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.audit.services import Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.forms import (
    AssignForm,
    ItemAnswersForm,
    PatientAnswersForm,
    ResponseEntryForm,
    SendLinkForm,
)
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import (
    Channel,
    QuestionnaireAssignment,
    QuestionnaireLink,
    QuestionnaireResponse,
)
from kapcare.measures.progress import progress_for
from kapcare.measures.scoring import ScoringError
from kapcare.measures.services import (
    LinkUnusableError,
    SubmissionKeyReusedError,
    assign_questionnaire,
    complete_questionnaire_link,
    endorses_suicidality,
    find_questionnaire_link,
    open_links_for,
    save_questionnaire_draft,
    send_questionnaire_link,
    stop_assignment,
    submit_questionnaire_response,
    withdraw_questionnaire_link,
)
from kapcare.patients.access import get_patient_for_user
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.treatment.therapy import mindfulness_summary

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
        "patient": patient, "tab": "measures", "page": page, "progress": progress_for(patient),
        "instruments": sorted(INSTRUMENTS.values(), key=lambda i: i.name),
        "send_form": SendLinkForm(instruments=_self_rated()),
        "assign_form": AssignForm(instruments=_self_rated()),
        "assignments": _assignments(patient), "open_links": open_links_for(patient),
        "mindfulness": mindfulness_summary(patient),
    }  # fmt: skip
    return render(request, "measures/patient_measures.html", context)


def _assignments(patient: Patient) -> list[QuestionnaireAssignment]:
    """Standing orders with their last sent date (one query)."""
    return list(
        QuestionnaireAssignment.objects.filter(patient=patient)
        .select_related("assigned_by")
        .annotate(last_sent_on=Max("links__due_on"))
    )


@staff_permission_required(CLINICAL)
@require_POST
def assignment_create(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Opened chart to schedule a questionnaire",
    )
    form = AssignForm(request.POST, instruments=_self_rated())
    if form.is_valid():
        try:
            assignment = assign_questionnaire(
                request=request,
                patient=patient,
                instrument=form.cleaned_data["instrument"],
                schedule=form.schedule(),
                channel=form.cleaned_data["channel"],
                assigned_by=request.user,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{assignment.instrument_name} scheduled: {assignment.description}.",
            )
            return redirect("measures:patient_measures", patient_id=patient.pk)
    context = {"patient": patient, "tab": "measures", "form": form}
    return render(request, "measures/assignment_form.html", context)


@staff_permission_required(CLINICAL)
@require_POST
def assignment_stop(
    request: AuthenticatedHttpRequest, patient_id: str, assignment_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Opened chart to stop a scheduled questionnaire",
    )
    assignment = get_object_or_404(
        QuestionnaireAssignment, pk=assignment_id, patient=patient
    )
    stop_assignment(request=request, assignment=assignment, stopped_by=request.user)
    messages.success(request, f"{assignment.instrument_name} will not be sent again.")
    return redirect("measures:patient_measures", patient_id=patient.pk)


@staff_permission_required(CLINICAL)
@require_POST
def link_withdraw(
    request: AuthenticatedHttpRequest, patient_id: str, link_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Opened chart to withdraw a questionnaire link",
    )
    link = get_object_or_404(QuestionnaireLink, pk=link_id, patient=patient)
    if withdraw_questionnaire_link(request=request, link=link, by=request.user):
        messages.success(request, f"The {link.instrument_name} link no longer works.")
    else:
        messages.info(
            request,
            f"The {link.instrument_name} link was already answered or withdrawn.",
        )
    return redirect("measures:patient_measures", patient_id=patient.pk)


@staff_permission_required(CLINICAL)
def response_detail(
    request: AuthenticatedHttpRequest, patient_id: str, response_id: str
) -> HttpResponse:
    """Every item's answer, as given, with the option wording."""
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Viewed questionnaire answers",
    )
    response = get_object_or_404(
        QuestionnaireResponse.objects.select_related("entered_by"),
        pk=response_id,
        patient=patient,
    )
    instrument = _instrument(response.instrument)
    rows = []
    for item, value in zip(instrument.items, response.answers, strict=False):
        wording = next((o.text for o in item.options if o.value == value), "")
        rows.append((item, value, wording))
    context = {
        "patient": patient, "tab": "measures", "response": response,
        "instrument": instrument, "rows": rows,
    }  # fmt: skip
    return render(request, "measures/response_detail.html", context)


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
                channel=form.cleaned_data["channel"],
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            link.refresh_from_db()
            if link.delivery_error:
                messages.error(
                    request,
                    f"The questionnaire could not be sent ({link.delivery_error}). "
                    "Nothing reached the patient; try again, or check the mail or "
                    "text message settings.",
                )
                return redirect("measures:patient_measures", patient_id=patient.pk)
            until = timezone.localtime(link.expires_at)
            how = "texted" if link.channel == Channel.SMS else "emailed"
            messages.success(
                request,
                f"Questionnaire {how} to {link.sent_to}; the link works once, until {until:%Y-%m-%d %H:%M}.",
            )
    return redirect("measures:patient_measures", patient_id=patient.pk)


def _by_item(form: ItemAnswersForm) -> dict[str, int]:
    values = {
        str(item.number): str(form.cleaned_data.get(f"item_{item.number}") or "")
        for item in form.instrument.items
    }
    return {number: int(value) for number, value in values.items() if value}


def fill_questionnaire(
    request: HttpRequest,
    link: QuestionnaireLink,
    *,
    source: str,
    save_url: str,
) -> HttpResponse:
    """The form a patient fills, from an emailed link or in the portal.

    Answers are saved as the patient goes (htmx on every change, or the "Save and
    finish later" button), so they can leave and come back until the link expires.
    """
    instrument = _instrument(link.instrument)
    context: dict[str, object] = {
        "instrument": instrument, "link": link, "save_url": save_url,
        # Crisis resources appear right under the question that calls for them.
        "crisis_after": instrument.suicidality_item or 1,
    }  # fmt: skip
    if request.method != "POST":
        initial = {f"item_{k}": str(v) for k, v in link.draft_answers.items()}
        form = PatientAnswersForm(initial=initial, instrument=instrument)
        answers = [link.draft_answers.get(str(i.number)) for i in instrument.items]
        context["endorsed"] = endorses_suicidality(link.instrument, answers)
        context["answered"] = sum(a is not None for a in answers)
        return render(request, "measures/link_fill.html", {**context, "form": form})
    if "save_draft" in request.POST:
        return _save_draft(request, link, instrument, context)
    form = PatientAnswersForm(request.POST, instrument=instrument)
    if form.is_valid():
        try:
            response = complete_questionnaire_link(
                request=request, link=link, answers=form.answers(), source=source
            )
        except LinkUnusableError:
            return render(request, "measures/link_invalid.html", status=410)
        except ScoringError as exc:
            form.add_error(None, str(exc))
        else:
            alerted = SafetyAlert.objects.filter(
                source_type__in=["questionnaire_response", "questionnaire_link"],
                source_id__in=[str(response.pk), str(link.pk)],
            ).exists()
            return render(
                request,
                "measures/link_done.html",
                {**context, "alerted": alerted, "response": response},
            )
    return render(
        request, "measures/link_fill.html", {**context, "form": form}, status=400
    )


def _save_draft(
    request: HttpRequest,
    link: QuestionnaireLink,
    instrument: Instrument,
    context: dict[str, object],
) -> HttpResponse:
    form = ItemAnswersForm(request.POST, instrument=instrument)
    if not form.is_valid():
        return HttpResponse("Those answers could not be saved.", status=400)
    try:
        answers = save_questionnaire_draft(
            request=request, link=link, by_item=_by_item(form)
        )
    except LinkUnusableError:
        return render(request, "measures/link_invalid.html", status=410)
    except ScoringError as exc:
        return HttpResponse(str(exc), status=400)
    context = {
        **context,
        "endorsed": endorses_suicidality(link.instrument, answers),
        "saved_at": timezone.localtime(),
        "answered": sum(a is not None for a in answers),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "measures/partials/draft_status.html", context)
    messages.success(
        request,
        "Your answers are saved. Open the same link again before it expires to finish.",
    )
    return redirect(request.path)


@otp_exempt
@login_not_required
def link_fill(request: HttpRequest, token: str) -> HttpResponse:
    """A patient fills in a questionnaire from an emailed or texted link (no sign-in)."""
    link = find_questionnaire_link(token)
    if link is None or not link.is_usable():
        return render(
            request, "measures/link_invalid.html", status=410 if link else 404
        )
    return fill_questionnaire(
        request,
        link,
        source=QuestionnaireResponse.Source.PATIENT_LINK,
        save_url=request.path,
    )
