"""Consultation requests: taking them in, moving them along the board, converting."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.services import Action, Information, record_event
from kapcare.intake.forms import SELF_CHECK_SALT
from kapcare.intake.models import (
    ConsultationRequest,
    Referral,
    RequestStatusChange,
    SelfCheck,
)
from kapcare.intake.selfcheck import SelfCheckResult
from kapcare.lib.documents import save_document
from kapcare.measures.scoring import score
from kapcare.patients.models import Patient
from kapcare.safety.deadlines import add_business_days
from kapcare.safety.escalation import ClinicHolidays
from kapcare.safety.levels import alerts_for_score
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.website.mail import send_clinic_email_on_commit
from kapcare.website.models import ClinicProfile, get_clinic_profile


class RateLimitedError(Exception):
    """Too many requests from one address in the last hour."""


class StaleStatusError(Exception):
    """Someone else moved the request first."""


class SelfCheckReusedError(Exception):
    """These self-check answers were already sent with another request."""


REUSED = (
    "These self-check answers were already sent with a request. Send this request "
    "without them, or take the self-check again."
)


def self_check_token(
    phq9_answers: list[int | None], tried: str, screening: dict[str, bool],
    result: SelfCheckResult,
) -> str:  # fmt: skip
    """Signed answers the person can choose to attach; nothing is stored until then."""
    return signing.dumps(
        {
            "phq9": phq9_answers,
            "tried": tried,
            "screening": screening,
            "total": result.phq9_total,
            "band": result.phq9_band or "",
            "outcome": result.outcome,
            "at": timezone.now().isoformat(),
        },
        salt=SELF_CHECK_SALT,
    )


def check_rate_limit(ip: str | None) -> None:
    if not ip:
        return
    since = timezone.now() - timedelta(hours=1)
    recent = ConsultationRequest.objects.filter(
        ip_address=ip, created_at__gte=since
    ).count()
    if recent >= settings.INTAKE_REQUESTS_PER_HOUR:
        raise RateLimitedError(
            "We have received several requests from your connection in the last "
            "hour. Please try again later, or call the clinic."
        )


def submit_consultation_request(
    *,
    request: HttpRequest,
    fields: dict[str, Any],
    consent_wording: str,
    submission_key: str,
    ip: str | None,
    self_check: dict[str, Any] | None,
) -> tuple[ConsultationRequest, bool]:
    """Store the request (and an attached self-check); notify after commit.
    A repeated submit with the same key returns the first request."""
    existing = ConsultationRequest.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing, False
    token_hash = (self_check or {}).get("token_hash")
    if token_hash and SelfCheck.objects.filter(token_hash=token_hash).exists():
        raise SelfCheckReusedError(REUSED)
    now = timezone.now()
    try:
        with transaction.atomic():
            # Inside the transaction (IMMEDIATE on SQLite, serialised writers), so
            # simultaneous posts cannot all slip under the limit.
            check_rate_limit(ip)
            consult = ConsultationRequest(
                **fields,
                consent_to_contact_at=now,
                consent_wording=consent_wording,
                ip_address=ip,
                submission_key=submission_key,
                status_changed_at=now,
                created_at=now,
            )
            consult.search_text = consult.build_search_text()
            consult.save()
            RequestStatusChange.objects.create(
                request=consult, to_status=consult.status, changed_at=now,
                note="Request received from the public site",
            )  # fmt: skip
            if self_check is not None:
                check = SelfCheck.objects.create(
                    request=consult, phq9_answers=self_check["phq9"],
                    phq9_total=self_check.get("total"), phq9_band=self_check.get("band", ""),
                    antidepressants_tried=self_check["tried"],
                    screening_answers=self_check["screening"],
                    outcome=self_check["outcome"],
                    completed_at=datetime.fromisoformat(self_check["at"]),
                    token_hash=token_hash,
                )  # fmt: skip
                _raise_self_check_alerts(request, consult, check)
            record_event(
                request=request,
                action=Action.CREATE,
                information=Information.DEMOGRAPHICS,
                object_type="consultation_request",
                object_id=consult.pk,
                summary="Consultation request received"
                + (" with a self-check" if self_check else ""),
            )
            _notify(consult)
    except IntegrityError:
        existing = ConsultationRequest.objects.filter(
            submission_key=submission_key
        ).first()
        if existing is not None:
            return existing, False
        if token_hash and SelfCheck.objects.filter(token_hash=token_hash).exists():
            raise SelfCheckReusedError(REUSED) from None
        raise
    return consult, True


def _raise_self_check_alerts(
    request: HttpRequest, consult: ConsultationRequest, check: SelfCheck
) -> None:
    """A self-check sent with a request is a PHQ-9 the clinic now holds: its item 9
    raises the same alerts as any PHQ-9 (kapcare/safety/levels.py), about the
    request until it becomes a chart."""
    result = score("phq9", check.phq9_answers)
    for rule in alerts_for_score("PHQ-9 (self-check)", result.flags, result.risk):
        raise_safety_alert(
            request=request,
            patient=None,
            consultation_request=consult,
            level=rule.level,
            trigger=SafetyAlert.Trigger.QUESTIONNAIRE,
            reason=rule.reason,
            source_type="self_check",
            source_id=str(check.pk),
            evidence={"instrument": "phq9", "answers": check.phq9_answers},
        )


def _notify(consult: ConsultationRequest) -> None:
    board = settings.SITE_URL + reverse("intake:request_detail", args=[consult.pk])
    if consult.email:
        send_clinic_email_on_commit(
            "intake/email/request_received", {"consult": consult}, consult.email
        )
    front_desk = User.objects.filter(
        is_active=True, groups__name=Role.FRONT_DESK.value
    ).values_list("email", flat=True)
    for address in front_desk:
        send_clinic_email_on_commit(
            "intake/email/front_desk_new_request", {"link": board}, address
        )


def first_contact_due(
    consult: ConsultationRequest, clinic: ClinicProfile | None = None
) -> datetime:
    clinic = clinic or get_clinic_profile()
    return add_business_days(
        timezone.localtime(consult.created_at),
        clinic.first_contact_business_days,
        ClinicHolidays(clinic.province),
    )


def board_queryset(status: str, query: str) -> QuerySet[ConsultationRequest]:
    requests = ConsultationRequest.objects.select_related(
        "self_check", "patient", "referral"
    )
    if status == "all":
        pass
    elif status in ConsultationRequest.Status.values:
        requests = requests.filter(status=status)
    else:
        requests = requests.filter(status__in=ConsultationRequest.OPEN_STATUSES)
    for word in query.split():
        digits = "".join(c for c in word if c.isdigit())
        is_phone = digits and not any(c.isalpha() for c in word)
        requests = requests.filter(
            search_text__contains=digits if is_phone else word.casefold()
        )
    return requests.order_by("created_at")


def change_status(
    *,
    request: HttpRequest,
    consult: ConsultationRequest,
    to_status: str,
    note: str,
    expected: str,
    by: User,
) -> None:
    with transaction.atomic():
        locked = ConsultationRequest.objects.select_for_update().get(pk=consult.pk)
        if locked.status != expected:
            raise StaleStatusError(
                f"Someone already moved this request to “{locked.get_status_display()}”; "
                "nothing was changed."
            )
        if to_status == locked.status and not note:
            return
        now = timezone.now()
        RequestStatusChange.objects.create(
            request=locked, from_status=locked.status, to_status=to_status,
            note=note, changed_by=by, changed_at=now,
        )  # fmt: skip
        fields = ["status", "status_changed_at"]
        if (
            locked.first_contacted_at is None
            and to_status != ConsultationRequest.Status.NEW
        ):
            locked.first_contacted_at = now
            fields.append("first_contacted_at")
        locked.status, locked.status_changed_at = to_status, now
        locked.save(update_fields=fields)
        record_event(
            request=request,
            action=Action.UPDATE,
            information=Information.DEMOGRAPHICS,
            object_type="consultation_request",
            object_id=locked.pk,
            summary=f"Moved consultation request to {locked.get_status_display()}",
        )


def possible_duplicates(
    consult: ConsultationRequest,
) -> tuple[list[Patient], list[ConsultationRequest]]:
    """Charts and other requests with the same email, phone, or name and date of birth."""
    match = Q(pk__in=[])
    if consult.email:
        match |= Q(email__iexact=consult.email)
    if consult.phone:
        match |= Q(phone=consult.phone)
    by_name = Q(
        legal_given_name__iexact=consult.given_name,
        legal_family_name__iexact=consult.family_name,
    )
    patient_match = (
        match | (by_name & Q(born_on=consult.born_on)) if consult.born_on else match
    )
    patients = list(Patient.objects.filter(patient_match)[:10])
    request_match = match
    if consult.born_on:
        request_match |= Q(
            given_name__iexact=consult.given_name,
            family_name__iexact=consult.family_name,
            born_on=consult.born_on,
        )
    others = list(
        ConsultationRequest.objects.filter(request_match).exclude(pk=consult.pk)[:10]
    )
    return patients, others


def link_to_patient(
    *, request: HttpRequest, consult: ConsultationRequest, patient: Patient, by: User
) -> None:
    """Inside the caller's transaction: the request now points at its chart, and so
    do its safety alerts (they then show on the chart and the caseload)."""
    ConsultationRequest.objects.filter(pk=consult.pk).update(patient=patient)
    moved = list(
        SafetyAlert.objects.filter(consultation_request=consult).values_list(
            "pk", flat=True
        )
    )
    SafetyAlert.objects.filter(pk__in=moved).update(patient=patient)
    for alert_id in moved:
        record_event(
            request=request,
            action=Action.UPDATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="safety_alert",
            object_id=alert_id,
            summary=f"Safety alert from the consultation request moved to chart {patient.mrn}",
        )
    RequestStatusChange.objects.create(
        request=consult, from_status=consult.status, to_status=consult.status,
        note=f"Converted to patient {patient.mrn}", changed_by=by,
    )  # fmt: skip
    record_event(
        request=request,
        action=Action.UPDATE,
        patient=patient,
        information=Information.DEMOGRAPHICS,
        object_type="consultation_request",
        object_id=consult.pk,
        summary=f"Converted consultation request to chart {patient.mrn}",
    )


def receive_referral(
    *, request: HttpRequest, data: dict[str, Any], by: User
) -> ConsultationRequest:
    """A clinician's referral enters the pipeline as a request with its letter.
    The letter is stored first; if the database write fails it is removed."""
    existing = ConsultationRequest.objects.filter(
        submission_key=data["submission_key"]
    ).first()
    if existing is not None:
        return existing
    letter_name, kind = "", None
    upload = data.get("letter")
    if upload:
        letter_name, kind = save_document(upload, "referrals")
    now = timezone.now()
    try:
        with transaction.atomic():
            consult = ConsultationRequest(
                given_name=data["given_name"], family_name=data["family_name"],
                born_on=data.get("born_on"), email=data.get("email") or "",
                phone=data.get("phone") or "",
                preferred_contact=(
                    ConsultationRequest.Contact.PHONE if data.get("phone")
                    else ConsultationRequest.Contact.EMAIL
                ),
                heard_from=ConsultationRequest.HeardFrom.DOCTOR,
                consent_to_contact_at=now,
                consent_wording=(
                    f"Referred by {data['clinician_name']}; the referral is the basis "
                    "for contacting the patient about a consultation."
                ),
                submission_key=data["submission_key"], created_at=now,
                status_changed_at=now,
            )  # fmt: skip
            consult.search_text = consult.build_search_text()
            consult.save()
            Referral.objects.create(
                request=consult, clinician_name=data["clinician_name"],
                cpso_number=data.get("cpso_number", ""),
                billing_number=data.get("billing_number", ""),
                clinician_phone=data.get("clinician_phone", ""),
                clinician_fax=data.get("clinician_fax", ""), reason=data["reason"],
                letter=letter_name, letter_content_type=kind.content_type if kind else "",
                letter_original_name=(upload.name or "")[:200] if upload else "",
                letter_size=upload.size or 0 if upload else 0, received_by=by,
            )  # fmt: skip
            RequestStatusChange.objects.create(
                request=consult, to_status=consult.status, changed_by=by,
                note=f"Referral from {data['clinician_name']} entered",
            )  # fmt: skip
            record_event(
                request=request,
                action=Action.CREATE,
                information=Information.CLINICAL,
                object_type="referral",
                object_id=consult.pk,
                summary=f"Referral from {data['clinician_name']} entered"
                + (" with its letter" if letter_name else ""),
            )
    except Exception as exc:
        if letter_name:
            storages["private"].delete(letter_name)
        if isinstance(exc, IntegrityError):
            existing = ConsultationRequest.objects.filter(
                submission_key=data["submission_key"]
            ).first()
            if existing is not None:
                return existing  # the same form, sent twice at once
        raise
    return consult
