"""Informed consent: versions, signing in the portal or on paper, and who needs to sign."""

from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.intake.models import ConsentDocument, ConsentSignature
from kapcare.lib.client_ip import client_ip
from kapcare.lib.documents import save_document
from kapcare.patients.models import Patient


class ConsentError(ValueError):
    """The signature cannot be taken (no document, wrong name, already signed)."""


@dataclass(frozen=True)
class ConsentStatus:
    current: ConsentDocument | None
    signature: ConsentSignature | None

    @property
    def needed(self) -> bool:
        return self.current is not None and self.signature is None


def current_document() -> ConsentDocument | None:
    return ConsentDocument.objects.order_by("-version").first()


def consent_status(patient: Patient) -> ConsentStatus:
    """The signature that covers the current version: its own, or an earlier one
    when the current version does not ask for re-consent."""
    documents = list(ConsentDocument.objects.order_by("-version"))
    if not documents:
        return ConsentStatus(None, None)
    current = documents[0]
    signatures = {
        s.document_id: s
        for s in ConsentSignature.objects.filter(patient=patient).select_related(
            "document", "recorded_by"
        )
    }
    for document in documents:
        if document.pk in signatures:
            return ConsentStatus(current, signatures[document.pk])
        if document.requires_reconsent:
            break
    return ConsentStatus(current, None)


def publish_consent_version(
    *, request: HttpRequest, title: str, body: str, requires_reconsent: bool, by: User
) -> ConsentDocument:
    with transaction.atomic():
        latest = (
            ConsentDocument.objects.select_for_update().order_by("-version").first()
        )
        document = ConsentDocument.objects.create(
            version=(latest.version + 1) if latest else 1, title=title, body=body,
            requires_reconsent=requires_reconsent, created_by=by,
        )  # fmt: skip
        record_event(
            request=request,
            action=Action.CREATE,
            information=Information.CLINIC,
            object_type="consent_document",
            object_id=document.pk,
            summary=f"Published consent version {document.version}",
        )
    return document


def _store(signature: ConsentSignature, request: HttpRequest, summary: str) -> None:
    try:
        with transaction.atomic():
            signature.save()
            record_event(
                request=request,
                action=Action.CREATE,
                patient=signature.patient,
                information=Information.CLINICAL,
                object_type="consent_signature",
                object_id=signature.pk,
                summary=summary,
            )
    except IntegrityError as exc:
        raise ConsentError("This version was already signed.") from exc


def sign_in_portal(
    *, request: HttpRequest, patient: Patient, document_version: int, typed_name: str
) -> ConsentSignature:
    """The patient types their legal name and ticks the box; the time and IP are kept."""
    document = current_document()
    if document is None or document.version != document_version:
        raise ConsentError(
            "The consent form changed while you were reading it; please read the "
            "current version."
        )
    if " ".join(typed_name.split()).casefold() != patient.legal_name.casefold():
        raise ConsentError(
            f"Type your full legal name as the clinic has it: {patient.legal_name}."
        )
    signature = ConsentSignature(
        patient=patient, document=document, method=ConsentSignature.Method.PORTAL,
        typed_name=" ".join(typed_name.split()), signed_at=timezone.now(),
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
    )  # fmt: skip
    _store(
        signature, request, f"Signed consent version {document.version} in the portal"
    )
    return signature


def record_paper_consent(
    *,
    request: HttpRequest,
    patient: Patient,
    document: ConsentDocument,
    signed_on: datetime,
    scan: UploadedFile,
    by: User,
) -> ConsentSignature:
    name, kind = save_document(scan, "consents")
    signature = ConsentSignature(
        patient=patient, document=document, method=ConsentSignature.Method.PAPER,
        signed_at=signed_on, scan=name, scan_content_type=kind.content_type,
        recorded_by=by,
    )  # fmt: skip
    try:
        _store(
            signature,
            request,
            f"Recorded a paper consent (version {document.version}) with its scan",
        )
    except ConsentError:
        storages["private"].delete(name)
        raise
    return signature
