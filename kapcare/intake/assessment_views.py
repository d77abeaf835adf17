"""The chart's eligibility tab: assessments, the draft form, signing and addenda."""

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.forms import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Information, last_changed_by
from kapcare.intake import assessments
from kapcare.intake.forms import AddendumForm, AssessmentForm, TrialFormSet
from kapcare.intake.models import EligibilityAssessment
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_patient_for_user

CLINICAL = "patients.view_clinical_record"


def _assessment(
    request: AuthenticatedHttpRequest, patient_id: str, assessment_id: str, summary: str
) -> EligibilityAssessment:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL, summary=summary
    )
    return get_object_or_404(
        EligibilityAssessment.objects.select_related(
            "patient", "signed_by", "created_by"
        ),
        pk=assessment_id,
        patient=patient,
    )


@staff_permission_required(CLINICAL)
def assessment_list(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Viewed eligibility assessments",
    )  # fmt: skip
    if request.method == "POST":
        assessment = assessments.start_assessment(
            request=request, patient=patient, by=request.user
        )
        return redirect(
            "intake:assessment_edit", patient_id=patient.pk, assessment_id=assessment.pk
        )
    items = [
        (a, assessments.summary_for(a))
        for a in patient.eligibility.select_related("signed_by").prefetch_related(
            "trials"
        )
    ]
    context = {"patient": patient, "tab": "eligibility", "items": items}
    return render(request, "intake/assessment_list.html", context)


@staff_permission_required(CLINICAL)
def assessment_edit(
    request: AuthenticatedHttpRequest, patient_id: str, assessment_id: str
) -> HttpResponse:
    assessment = _assessment(
        request, patient_id, assessment_id, "Opened an eligibility assessment"
    )
    if assessment.is_signed:
        if request.method == "POST":
            messages.error(
                request,
                "This assessment was signed before your changes were saved, so they "
                "were not: add an addendum instead.",
            )
        return redirect(
            "intake:assessment_detail",
            patient_id=patient_id,
            assessment_id=assessment.pk,
        )
    form = AssessmentForm(request.POST or None, instance=assessment)
    trials = TrialFormSet(request.POST or None, instance=assessment)
    if request.method == "POST" and form.is_valid() and trials.is_valid():
        outcome = _save_and_maybe_sign(request, assessment, form, trials)
        if outcome is not None:
            return outcome
    context = {
        "patient": assessment.patient, "tab": "eligibility", "assessment": assessment,
        "form": form, "trials": trials, "summary": assessments.summarise(assessment),
        "can_sign": assessments.is_physician(request.user),
    }  # fmt: skip
    return render(request, "intake/assessment_form.html", context)


@staff_permission_required(CLINICAL)
def assessment_detail(
    request: AuthenticatedHttpRequest, patient_id: str, assessment_id: str
) -> HttpResponse:
    assessment = _assessment(
        request, patient_id, assessment_id, "Viewed an eligibility assessment"
    )
    context = {
        "patient": assessment.patient, "tab": "eligibility", "assessment": assessment,
        "summary": assessments.summary_for(assessment), "trials": assessment.trials.all(),
        "addenda": assessment.addenda.select_related("author"),
        "addendum_form": AddendumForm(),
    }  # fmt: skip
    return render(request, "intake/assessment_detail.html", context)


@staff_permission_required(CLINICAL)
@require_POST
def assessment_addendum(
    request: AuthenticatedHttpRequest, patient_id: str, assessment_id: str
) -> HttpResponse:
    assessment = _assessment(
        request,
        patient_id,
        assessment_id,
        "Opened an eligibility assessment to amend it",
    )
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            assessments.add_addendum(
                request=request, assessment=assessment, text=form.cleaned_data["text"],
                by=request.user,
            )  # fmt: skip
            messages.success(request, "Addendum added.")
        except assessments.AssessmentError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Write the addendum first.")
    return redirect(
        "intake:assessment_detail", patient_id=patient_id, assessment_id=assessment.pk
    )


def _save_and_maybe_sign(
    request: AuthenticatedHttpRequest,
    assessment: EligibilityAssessment,
    form: AssessmentForm,
    trials: BaseInlineFormSet[Any, Any, Any],
) -> HttpResponse | None:
    """Save the draft and, if asked, sign it, in one transaction: what the physician
    signs is exactly what they saw. A draft changed by someone else since it was
    opened is not overwritten (None: the form is shown again with the message)."""
    detail = redirect(
        "intake:assessment_detail",
        patient_id=assessment.patient_id,
        assessment_id=assessment.pk,
    )
    with transaction.atomic():
        fresh = EligibilityAssessment.objects.select_for_update().get(pk=assessment.pk)
        if fresh.is_signed:
            messages.error(request, "It was signed meanwhile; add an addendum instead.")
            return detail
        if form.cleaned_data.get("loaded_at") != fresh.updated_at.isoformat():
            who = last_changed_by("eligibility_assessment", fresh.pk)
            form.add_error(
                None,
                f"{who or 'Someone else'} saved this draft while you were editing "
                "it, so nothing was saved. Your entries are below: open the draft "
                "in another tab to compare, then save again.",
            )
            # the form shown again carries the current version, so the retry saves
            data = form.data.copy()  # type: ignore[attr-defined]
            data["loaded_at"] = fresh.updated_at.isoformat()
            form.data = data
            return None
        saved = form.save(commit=False)
        saved.updated_at = timezone.now()
        saved.save()
        trials.save()
        assessments.record_saved(request, saved)
        if "sign" in request.POST:
            try:
                assessments.sign_assessment(
                    request=request, assessment=saved, by=request.user
                )
            except assessments.AssessmentError as exc:
                messages.error(request, f"Saved, not signed: {exc}")
                return redirect(request.path)
            messages.success(request, "Assessment signed. It is now read-only.")
            return detail
    messages.success(request, "Draft saved.")
    return redirect(request.path)
