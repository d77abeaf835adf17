"""Integration sessions, the chart timeline, and the portal's homework and
mindfulness pages."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kapcare.accounts.access import (
    patient_portal_required,
    refuse,
    staff_permission_required,
)
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import show_saved_values
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_own_chart, get_patient_for_user
from kapcare.treatment import therapy
from kapcare.treatment.forms import IntegrationForm, MindfulnessForm
from kapcare.treatment.models import DosingSession, IntegrationSession
from kapcare.treatment.predicted import compare_models
from kapcare.treatment.timeline import timeline_for

CLINICAL = "patients.view_clinical_record"


def _can_read_notes(request: AuthenticatedHttpRequest) -> bool:
    return request.user.has_perm(therapy.NOTES_PERMISSION)


@staff_permission_required(CLINICAL, therapy.WRITE_PERMISSION)
def integration_create(
    request: AuthenticatedHttpRequest, patient_id: str, session_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Opened a new integration session",
    )  # fmt: skip
    dosing = get_object_or_404(
        DosingSession.objects.select_related("course__protocol"),
        pk=session_id, patient=patient,
    )  # fmt: skip
    form = IntegrationForm(
        request.POST or None, show_note=True,
        initial={"held_on": timezone.localdate()},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            session = therapy.start_integration_session(
                request=request, dosing_session=dosing, values=form.values(),
                psychotherapy_note=form.cleaned_data["psychotherapy_note"],
                by=request.user,
            )  # fmt: skip
        except therapy.TherapyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Integration session saved as a draft.")
            return redirect(session)
    context = {"patient": patient, "tab": "treatment", "form": form, "dosing": dosing}
    return render(request, "treatment/integration_form.html", context)


def _integration(
    request: AuthenticatedHttpRequest,
    patient_id: str,
    integration_id: str,
    summary: str,
) -> IntegrationSession:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL, summary=summary
    )
    session = (
        IntegrationSession.objects.select_related(
            "therapist", "dosing_session__course__protocol"
        )
        .filter(pk=integration_id, patient=patient)
        .first()
    )
    if session is None:
        raise Http404("No such integration session")
    session.patient = patient
    return session


@staff_permission_required(CLINICAL)
def integration_detail(
    request: AuthenticatedHttpRequest, patient_id: str, integration_id: str
) -> HttpResponse:
    session = _integration(
        request, patient_id, integration_id, "Viewed an integration session"
    )
    show_note = _can_read_notes(request)
    if show_note and session.psychotherapy_note:
        record_event(
            request=request, action=Action.VIEW, patient=session.patient,
            information=Information.PSYCHOTHERAPY, object_type="integration_session",
            object_id=session.pk, summary="Read a psychotherapy note",
        )  # fmt: skip
    context = {
        "patient": session.patient, "tab": "treatment", "session": session,
        "show_note": show_note,
        "can_edit": not session.is_signed and session.therapist_id == request.user.pk,
    }  # fmt: skip
    return render(request, "treatment/integration_detail.html", context)


@staff_permission_required(CLINICAL, therapy.WRITE_PERMISSION)
def integration_edit(
    request: AuthenticatedHttpRequest, patient_id: str, integration_id: str
) -> HttpResponse:
    session = _integration(
        request, patient_id, integration_id, "Opened an integration session to edit"
    )
    if session.therapist_id != request.user.pk:
        raise refuse(
            request,
            "Only the author edits an integration session",
            patient=session.patient,
        )
    if session.is_signed:
        messages.info(request, "This integration session is signed and read-only.")
        return redirect(session)
    if request.method == "GET" and session.psychotherapy_note:
        record_event(
            request=request, action=Action.VIEW, patient=session.patient,
            information=Information.PSYCHOTHERAPY, object_type="integration_session",
            object_id=session.pk, summary="Read a psychotherapy note (to edit it)",
        )  # fmt: skip
    form = IntegrationForm(request.POST or None, instance=session, show_note=True)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            therapy.update_integration_session(
                request=request, session=session, values=form.values(),
                psychotherapy_note=form.cleaned_data["psychotherapy_note"],
                sign="sign" in request.POST, by=request.user,
                seen=request.POST.get("seen", ""),
            )  # fmt: skip
        except (therapy.TherapyError, ChangedMeanwhileError) as exc:
            form.add_error(None, str(exc))
            if isinstance(exc, ChangedMeanwhileError):
                conflict = True
                show_saved_values(form)
        else:
            messages.success(
                request, "Signed." if "sign" in request.POST else "Draft saved."
            )
            return redirect(session)
    saved_at = IntegrationSession.objects.values_list("updated_at", flat=True).get(
        pk=session.pk
    )
    seen = fingerprint([saved_at])
    if request.method == "POST" and not conflict:
        seen = request.POST.get("seen", "")  # a form with errors: still what it saw
    context = {
        "patient": session.patient, "tab": "treatment", "form": form,
        "dosing": session.dosing_session, "session": session, "seen": seen,
    }  # fmt: skip
    return render(
        request, "treatment/integration_form.html", context,
        status=400 if form.errors else 200,
    )  # fmt: skip


PERIODS = {"3": 3, "6": 6, "12": 12}


@staff_permission_required(CLINICAL)
def timeline(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request,
        patient_id,
        information=Information.CLINICAL,
        summary="Viewed the timeline",
    )
    period = request.GET.get("months", "6")
    months = PERIODS.get(period)
    since = timezone.now() - timedelta(days=31 * months) if months else None
    context = {
        "patient": patient, "tab": "timeline", "entries": timeline_for(patient, since),
        "period": period if months else "all", "periods": [*PERIODS, "all"],
    }  # fmt: skip
    return render(request, "treatment/timeline.html", context)


@patient_portal_required
def my_homework(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request, information=Information.CLINICAL,
        summary="Viewed their integration homework in the portal",
    )  # fmt: skip
    sessions = (
        IntegrationSession.objects.filter(patient=patient, signed_at__isnull=False)
        .exclude(homework="", goals="")
        .select_related("therapist")
    )
    return render(
        request,
        "treatment/portal_homework.html",
        {"patient": patient, "sessions": sessions},
    )


@patient_portal_required
def my_mindfulness(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request, information=Information.CLINICAL,
        summary="Viewed their mindfulness log in the portal",
    )  # fmt: skip
    form = MindfulnessForm(
        request.POST or None, initial={"submission_key": uuid.uuid4().hex}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, created = therapy.log_mindfulness(
                    request=request, patient=patient, values=form.values(),
                    submission_key=form.cleaned_data["submission_key"],
                )  # fmt: skip
            except therapy.TherapyError as exc:
                form.add_error("practised_on", str(exc))
            else:
                messages.success(
                    request, "Practice logged." if created else "Already logged."
                )
                return redirect("portal:mindfulness")
        status = 400
    context = {
        "patient": patient, "form": form,
        "summary": therapy.mindfulness_summary(patient),
    }  # fmt: skip
    return render(request, "treatment/portal_mindfulness.html", context, status=status)


class CompareForm(forms.Form):
    weight = forms.DecimalField(
        label="Weight (kg)", min_value=40, max_value=150, decimal_places=1
    )
    dose = forms.DecimalField(
        label="Dose (mg/kg)", min_value=Decimal("0.05"), max_value=Decimal("1.0"),
        decimal_places=3,
    )  # fmt: skip
    minutes = forms.IntegerField(label="Infusion (minutes)", min_value=1, max_value=240)


@staff_permission_required("treatment.add_treatmentcourse")
def pk_compare(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    """Physicians compare the published models' predictions for this patient and
    an IV regimen, curves overlaid, each with its citation."""
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Compared predicted ketamine concentrations",
    )  # fmt: skip
    latest = (
        DosingSession.objects.filter(patient=patient, weight_kg__isnull=False)
        .order_by("-opened_at")
        .first()
    )
    initial = {
        "weight": latest.weight_kg if latest else None,
        "dose": Decimal("0.5"),
        "minutes": 40,
    }
    form = CompareForm(request.GET or None, initial=initial)
    prediction = None
    if form.is_valid():
        data = form.cleaned_data
        prediction = compare_models(
            float(data["weight"]), data["dose"], data["minutes"]
        )
    context = {
        "patient": patient,
        "tab": "treatment",
        "form": form,
        "prediction": prediction,
    }
    status = 400 if request.GET and not form.is_valid() else 200
    return render(request, "treatment/pk_compare.html", context, status=status)
