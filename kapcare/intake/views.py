from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.audit.services import Action, Information, record_event
from kapcare.intake import services
from kapcare.intake.forms import (
    BoardFilterForm,
    ConsultationRequestForm,
    ReferralForm,
    SelfCheckForm,
    SpamRefusedError,
    form_started_token,
)
from kapcare.intake.models import ConsultationRequest, Referral
from kapcare.intake.selfcheck import assess
from kapcare.lib.client_ip import client_ip
from kapcare.lib.documents import private_file_response
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.scoring import ScoringError
from kapcare.patients import services as patient_services
from kapcare.patients.forms import PatientForm
from kapcare.website.models import get_clinic_profile

BOARD = "patients.view_patient"


@otp_exempt
@login_not_required
def self_check(request: HttpRequest) -> HttpResponse:
    """The anonymous self-check. Nothing is stored; the result page offers to attach
    the answers (signed, in a hidden field) to a consultation request."""
    form = SelfCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        try:
            result = assess(
                answers, form.cleaned_data["antidepressants_tried"], form.screening()
            )
        except ScoringError as exc:
            form.add_error(None, str(exc))
        else:
            token = services.self_check_token(
                answers, form.cleaned_data["antidepressants_tried"],
                form.screening(), result,
            )  # fmt: skip
            return render(
                request,
                "intake/self_check_result.html",
                {"result": result, "token": token},
            )
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/self_check.html", {"form": form}, status=status)


@otp_exempt
@login_not_required
def request_create(request: HttpRequest) -> HttpResponse:
    """The public consultation request (linked from every public page)."""
    clinic = get_clinic_profile()
    attaching = request.method == "POST" and "given_name" not in request.POST
    if request.method != "POST" or attaching:
        initial = {"self_check": request.POST.get("self_check", "")}
        form = ConsultationRequestForm(initial=initial, clinic_name=clinic.name)
        return render(request, "intake/request_form.html", {"form": form})
    form = ConsultationRequestForm(request.POST, clinic_name=clinic.name)
    try:
        form.spam_check()
    except SpamRefusedError as exc:
        key = str(request.POST.get("submission_key", ""))[:64]
        return _form_again(
            request, clinic.name, str(exc), website="", started=form_started_token(key)
        )
    if form.is_valid():
        cleaned: dict[str, Any] = form.cleaned_data
        fields = {name: cleaned[name] for name in ConsultationRequestForm.Meta.fields}
        try:
            services.submit_consultation_request(
                request=request, fields=fields, consent_wording=form.consent_wording,
                submission_key=str(cleaned["submission_key"]), ip=client_ip(request),
                self_check=cleaned.get("self_check"),
            )  # fmt: skip
        except services.RateLimitedError as exc:
            form.add_error(None, str(exc))
            return render(
                request, "intake/request_form.html", {"form": form}, status=429
            )
        except services.SelfCheckReusedError as exc:
            return _form_again(request, clinic.name, str(exc), self_check="")
        return redirect("intake:request_done")
    if "self_check" in form.errors:
        problem = str(form.errors["self_check"][0])
        return _form_again(request, clinic.name, problem, self_check="")
    return render(request, "intake/request_form.html", {"form": form}, status=400)


def _form_again(
    request: HttpRequest, clinic_name: str, message: str, **replace: str
) -> HttpResponse:
    """The person's entries shown again with `message`, some hidden fields replaced
    (a fresh fill-time token, or self-check answers that cannot be sent)."""
    data = request.POST.copy()
    for name, value in replace.items():
        data[name] = value
    form = ConsultationRequestForm(data, clinic_name=clinic_name)
    form.is_valid()
    form.add_error(None, message)
    return render(request, "intake/request_form.html", {"form": form}, status=400)


@otp_exempt
@login_not_required
def request_done(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/request_done.html")


@staff_permission_required(BOARD)
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Requests in the order they came in, the overdue first contacts marked."""
    form = BoardFilterForm(request.GET)
    status = query = ""
    if form.is_valid():
        status, query = form.cleaned_data["status"], form.cleaned_data["q"].strip()
    page = Paginator(services.board_queryset(status, query), 25).get_page(
        request.GET.get("page")
    )
    now, clinic = timezone.now(), get_clinic_profile()
    rows = [
        (
            consult,
            consult.status == ConsultationRequest.Status.NEW
            and services.first_contact_due(consult, clinic) < now,
        )
        for consult in page
    ]
    record_event(
        request=request,
        action=Action.SEARCH,
        information=Information.DEMOGRAPHICS,
        object_type="consultation_request",
        summary=f"Listed {len(rows)} consultation requests",
        detail={"ids": [str(c.pk) for c, _ in rows]},
    )
    context = {"form": form, "page": page, "rows": rows}
    template = (
        "intake/partials/board_table.html"
        if request.headers.get("HX-Request") == "true"
        else "intake/board.html"
    )
    return render(request, template, context)


def _consult_for(
    request: AuthenticatedHttpRequest, request_id: str, summary: str
) -> ConsultationRequest:
    consult = get_object_or_404(
        ConsultationRequest.objects.select_related("patient"), pk=request_id
    )
    clinical = request.user.has_perm("patients.view_clinical_record")
    record_event(
        request=request,
        action=Action.VIEW,
        patient=consult.patient,
        information=Information.CLINICAL if clinical else Information.DEMOGRAPHICS,
        object_type="consultation_request",
        object_id=consult.pk,
        summary=summary,
    )
    return consult


@staff_permission_required(BOARD)
def request_detail(request: AuthenticatedHttpRequest, request_id: str) -> HttpResponse:
    consult = _consult_for(request, request_id, "Viewed a consultation request")
    patients, others = services.possible_duplicates(consult)
    changes = consult.changes.select_related("changed_by")
    self_check = getattr(consult, "self_check", None)
    due = services.first_contact_due(consult)
    context = {
        "consult": consult, "changes": changes, "self_check": self_check,
        "duplicate_patients": patients, "duplicate_requests": others,
        "statuses": ConsultationRequest.Status.choices,
        "overdue": consult.status == ConsultationRequest.Status.NEW
        and due < timezone.now(),
        "first_contact_due": due,
        "open_statuses": [s.value for s in ConsultationRequest.OPEN_STATUSES],
    }  # fmt: skip
    return render(request, "intake/request_detail.html", context)


@staff_permission_required("patients.change_patient")
def request_status(request: AuthenticatedHttpRequest, request_id: str) -> HttpResponse:
    consult = _consult_for(
        request, request_id, "Opened a consultation request to move it"
    )
    if request.method != "POST":
        return redirect("intake:request_detail", request_id=consult.pk)
    status = request.POST.get("status", "")
    if status not in ConsultationRequest.Status.values:
        messages.error(request, "Choose a status from the list.")
    else:
        try:
            services.change_status(
                request=request, consult=consult, to_status=status,
                note=request.POST.get("note", "").strip()[:2000],
                expected=request.POST.get("current", ""), by=request.user,
            )  # fmt: skip
            messages.success(
                request, f"Moved to “{ConsultationRequest.Status(status).label}”."
            )
        except services.StaleStatusError as exc:
            messages.error(request, str(exc))
    return redirect("intake:request_detail", request_id=consult.pk)


@staff_permission_required("patients.add_patient")
def request_convert(request: AuthenticatedHttpRequest, request_id: str) -> HttpResponse:
    """Create the chart from the request, without retyping what they gave us."""
    consult = _consult_for(
        request, request_id, "Opened a consultation request to convert it"
    )
    if consult.patient is not None:
        messages.info(request, f"Already converted to chart {consult.patient.mrn}.")
        return redirect(consult.patient)
    initial = {
        "legal_given_name": consult.given_name, "legal_family_name": consult.family_name,
        "born_on": consult.born_on, "email": consult.email, "phone": consult.phone,
        "status": "prospect",
    }  # fmt: skip
    form = PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            locked = ConsultationRequest.objects.select_for_update().get(pk=consult.pk)
            if locked.patient_id is not None:
                messages.info(request, "Someone converted this request a moment ago.")
                return redirect("intake:request_detail", request_id=consult.pk)
            patient = patient_services.create_patient(
                request=request, fields=form.model_fields(), created_by=request.user
            )
            services.link_to_patient(
                request=request, consult=locked, patient=patient, by=request.user
            )
        messages.success(request, f"Chart {patient.mrn} created from the request.")
        return redirect(patient)
    patients, others = services.possible_duplicates(consult)
    context = {
        "form": form, "consult": consult, "duplicate_patients": patients,
        "duplicate_requests": others,
    }  # fmt: skip
    return render(request, "intake/request_convert.html", context)


@staff_permission_required("patients.add_patient")
def referral_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReferralForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        consult = services.receive_referral(
            request=request, data=form.cleaned_data, by=request.user
        )
        messages.success(request, "Referral entered on the intake board.")
        return redirect("intake:request_detail", request_id=consult.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/referral_form.html", {"form": form}, status=status)


@staff_permission_required("patients.view_clinical_record")
def referral_letter(request: AuthenticatedHttpRequest, request_id: str) -> FileResponse:
    """Stream a referral letter to clinical staff; every read is audited."""
    referral = get_object_or_404(Referral, request_id=request_id)
    if not referral.letter:
        raise Http404("No letter")
    consult = referral.request
    record_event(
        request=request,
        action=Action.VIEW,
        patient=consult.patient,
        information=Information.CLINICAL,
        object_type="referral_letter",
        object_id=consult.pk,
        summary=f"Read the referral letter from {referral.clinician_name}",
    )
    return private_file_response(
        referral.letter, referral.letter_content_type, f"referral-{consult.family_name}"
    )
