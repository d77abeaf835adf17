"""Consent pages: the clinic's versions, the patient's signing, paper consents."""

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import patient_portal_required, staff_permission_required
from kapcare.audit.services import Action, Information, record_event
from kapcare.intake import consent
from kapcare.intake.forms import (
    ConsentDocumentForm,
    PaperConsentForm,
    PortalConsentForm,
)
from kapcare.intake.models import ConsentDocument, ConsentSignature
from kapcare.lib.documents import private_file_response
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_own_chart, get_patient_for_user

CLINICAL = "patients.view_clinical_record"


@staff_permission_required("website.change_clinicprofile")
def consent_documents(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's consent versions; publishing adds a new one (old ones never change)."""
    latest = consent.current_document()
    initial = {"title": latest.title, "body": latest.body} if latest else {}
    form = ConsentDocumentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        document = consent.publish_consent_version(
            request=request, title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            requires_reconsent=form.cleaned_data["requires_reconsent"], by=request.user,
        )  # fmt: skip
        messages.success(request, f"Consent version {document.version} published.")
        return redirect("intake:consent_documents")
    documents = ConsentDocument.objects.select_related("created_by")
    return render(
        request,
        "intake/consent_documents.html",
        {"form": form, "documents": documents, "latest": latest},
    )


@patient_portal_required
def portal_consent(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request, information=Information.CLINICAL, summary="Opened the consent form"
    )
    status = consent.consent_status(patient)
    form = PortalConsentForm(
        request.POST or None,
        initial={"version": status.current.version if status.current else 0},
    )
    if request.method == "POST" and status.needed and form.is_valid():
        try:
            consent.sign_in_portal(
                request=request, patient=patient,
                document_version=form.cleaned_data["version"],
                typed_name=form.cleaned_data["typed_name"],
            )  # fmt: skip
        except consent.ConsentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Thank you. Your consent is recorded.")
            return redirect("portal:consent")
    context = {"patient": patient, "status": status, "form": form}
    return render(request, "intake/portal_consent.html", context)


@staff_permission_required(CLINICAL)
@require_POST
def consent_paper(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.CLINICAL,
        summary="Opened chart to record a paper consent",
    )  # fmt: skip
    form = PaperConsentForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"Paper consent not recorded: {problems}")
        return redirect(patient)
    document = ConsentDocument.objects.filter(
        version=form.cleaned_data["version"]
    ).first()
    if document is None:
        messages.error(request, "There is no consent version with that number.")
        return redirect(patient)
    signed_at = timezone.make_aware(
        dt.datetime.combine(form.cleaned_data["signed_on"], dt.time(12))
    )
    try:
        consent.record_paper_consent(
            request=request, patient=patient, document=document, signed_on=signed_at,
            scan=form.cleaned_data["scan"], by=request.user,
        )  # fmt: skip
    except consent.ConsentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Paper consent (version {document.version}) recorded."
        )
    return redirect(patient)


@staff_permission_required(CLINICAL)
def consent_scan(request: AuthenticatedHttpRequest, signature_id: str) -> FileResponse:
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("patient"), pk=signature_id
    )
    if not signature.scan:
        raise Http404("No scan")
    record_event(
        request=request,
        action=Action.VIEW,
        patient=signature.patient,
        information=Information.CLINICAL,
        object_type="consent_scan",
        object_id=signature.pk,
        summary="Opened a scanned consent form",
    )
    return private_file_response(
        signature.scan, signature.scan_content_type, f"consent-{signature.patient.mrn}"
    )
