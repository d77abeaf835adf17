"""Writes to patient records. Each function is one transaction: change + audit event."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_event,
    record_events,
)
from kapcare.lib.tokens import new_link_token, token_hash
from kapcare.patients.models import MrnCounter, Patient, PortalInvitation
from kapcare.website.mail import send_clinic_email_on_commit

# Fields staff edit on the chart; their old and new values go into the history.
EDITABLE_FIELDS = (
    "legal_given_name", "legal_family_name", "preferred_name", "pronouns", "born_on",
    "sex_at_birth", "gender_identity", "phone", "email", "street_address", "city",
    "province", "postal_code", "health_number", "health_version_code",
    "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone",
    "referring_clinician", "responsible_physician", "responsible_therapist", "status",
)  # fmt: skip


class StaleEditError(Exception):
    """Someone else saved the chart after this form was loaded."""

    def __init__(self, changed_by: str) -> None:
        super().__init__(changed_by)
        self.changed_by = changed_by


def format_mrn(number: int) -> str:
    return f"KC{number:07d}"


def allocate_mrns(count: int) -> list[str]:
    """Reserve `count` consecutive MRNs. Call inside a transaction."""
    MrnCounter.objects.get_or_create(pk=1)
    # A conditional UPDATE is atomic on both databases, so two clinics staff creating
    # patients at once never receive the same number (select_for_update is a no-op on SQLite).
    MrnCounter.objects.filter(pk=1).update(last_number=F("last_number") + count)
    last = MrnCounter.objects.values_list("last_number", flat=True).get(pk=1)
    return [format_mrn(n) for n in range(last - count + 1, last + 1)]


def _value(patient: Patient, field: str) -> Any:
    value = getattr(
        patient, f"{field}_id" if field.startswith("responsible_") else field
    )
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value is not None else ""


def snapshot(patient: Patient) -> dict[str, Any]:
    return {field: _value(patient, field) for field in EDITABLE_FIELDS}


def create_patient(
    *, request: HttpRequest | None, fields: dict[str, Any], created_by: User | None
) -> Patient:
    with transaction.atomic():
        patient = Patient(**fields)
        patient.mrn = allocate_mrns(1)[0]
        patient.search_text = patient.build_search_text()
        patient.save()
        record_event(
            request=request,
            actor=created_by,
            action=Action.CREATE,
            patient=patient,
            information=Information.DEMOGRAPHICS,
            object_type="patient",
            object_id=patient.pk,
            summary=f"Created chart {patient.mrn}",
            detail={"changes": {k: ["", v] for k, v in snapshot(patient).items() if v}},
        )
    return patient


def update_patient(
    *,
    request: HttpRequest | None,
    patient: Patient,
    fields: dict[str, Any],
    changed_by: User,
    loaded_at: str | None = None,
) -> dict[str, list[Any]]:
    """Save changed fields and their history; raise StaleEditError on a lost update.

    `loaded_at` is the chart's updated_at when the editor opened it (forms always
    send it); None skips the check, for callers that read and write in one go.
    """
    with transaction.atomic():
        # Two editors saving at once: the row lock makes the second wait and then see
        # the first one's updated_at (SQLite's IMMEDIATE transaction does the same).
        current = Patient.objects.select_for_update().get(pk=patient.pk)
        if loaded_at is not None and current.updated_at.isoformat() != loaded_at:
            raise StaleEditError(_last_editor(current) or "another user")
        before = snapshot(current)
        for name, value in fields.items():
            setattr(current, name, value)
        after = snapshot(current)
        changes = {
            k: [before[k], after[k]] for k in EDITABLE_FIELDS if before[k] != after[k]
        }
        if not changes:
            return {}
        current.search_text = current.build_search_text()
        current.updated_at = timezone.now()
        current.save(update_fields=[*fields.keys(), "search_text", "updated_at"])
        if "email" in changes:
            # A link sent to the old (perhaps mistyped) address must stop working.
            PortalInvitation.objects.filter(
                patient=current, used_at__isnull=True, revoked_at__isnull=True
            ).update(revoked_at=current.updated_at)
        record_event(
            request=request,
            actor=changed_by,
            action=Action.UPDATE,
            patient=current,
            information=Information.DEMOGRAPHICS,
            object_type="patient",
            object_id=current.pk,
            summary="Changed "
            + ", ".join(Patient.field_label(k).lower() for k in changes),
            detail={"changes": changes},
        )
    patient.refresh_from_db()
    return changes


def _last_editor(patient: Patient) -> str:
    event = (
        AuditEvent.objects.filter(
            object_type="patient",
            object_id=str(patient.pk),
            action__in=[Action.UPDATE, Action.CREATE],
        )
        .order_by("-seq")
        .first()
    )
    return event.actor_label if event else ""


def invite_patient_to_portal(
    *, request: HttpRequest, patient: Patient, invited_by: User
) -> PortalInvitation:
    """Revoke earlier open invitations, create a new one and email its link on commit."""
    if not patient.email:
        raise ValueError("Add the patient's email address before inviting them.")
    if patient.user_id is not None:
        raise ValueError("This patient already has a portal account.")
    token, hashed = new_link_token()
    now = timezone.now()
    with transaction.atomic():
        PortalInvitation.objects.filter(
            patient=patient, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = PortalInvitation.objects.create(
            patient=patient,
            token_hash=hashed,
            sent_to=patient.email,
            created_by=invited_by,
            expires_at=now + settings.PORTAL_INVITATION_LIFETIME,
        )
        record_event(
            request=request,
            action=Action.INVITATION_SENT,
            patient=patient,
            information=Information.ACCOUNT,
            object_type="portal_invitation",
            object_id=invitation.pk,
            summary=f"Invited to the portal at {patient.email}",
        )
        link = settings.SITE_URL + reverse("portal:invitation_accept", args=[token])
        send_clinic_email_on_commit(
            "patients/email/invitation",
            {"patient": patient, "link": link, "expires_at": invitation.expires_at},
            patient.email,
        )
    return invitation


def find_invitation(token: str) -> PortalInvitation | None:
    return (
        PortalInvitation.objects.select_related("patient")
        .filter(token_hash=token_hash(token))
        .first()
    )


def accept_portal_invitation(
    *, request: HttpRequest, invitation: PortalInvitation, born_on: date, password: str
) -> User | None:
    """Create the portal account if the date of birth matches; count a failure otherwise."""
    with transaction.atomic():
        invitation = (
            PortalInvitation.objects.select_for_update()
            .select_related("patient")
            .get(pk=invitation.pk)
        )
        patient = invitation.patient
        if not invitation.is_usable():
            return None
        if patient.born_on != born_on:
            PortalInvitation.objects.filter(pk=invitation.pk).update(
                failed_checks=F("failed_checks") + 1
            )
            record_event(
                request=request,
                action=Action.INVITATION_FAILED,
                patient=patient,
                information=Information.ACCOUNT,
                object_type="portal_invitation",
                object_id=invitation.pk,
                summary="Date of birth did not match",
            )
            return None
        user = User.objects.create_user(
            invitation.sent_to,
            password,
            full_name=patient.display_name,
            kind=User.Kind.PATIENT,
        )
        user.groups.add(Group.objects.get(name=Role.PATIENT))
        Patient.objects.filter(pk=patient.pk).update(user=user)
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        record_event(
            request=request,
            actor=user,
            action=Action.INVITATION_ACCEPTED,
            patient=patient,
            information=Information.ACCOUNT,
            object_type="portal_invitation",
            object_id=invitation.pk,
            summary="Created a portal account",
        )
    return user


def bulk_create_patients(patients: Sequence[Patient], *, actor_label: str) -> int:
    """Insert many charts at once (demo data), with one audit event per chart."""
    with transaction.atomic():
        mrns = allocate_mrns(len(patients))
        for patient, mrn in zip(patients, mrns, strict=True):
            patient.mrn = mrn
            patient.search_text = patient.build_search_text()
        Patient.objects.bulk_create(patients, batch_size=1000)
        record_events(
            [
                PendingEvent(
                    action=Action.CREATE,
                    patient_id=str(p.pk),
                    information=Information.DEMOGRAPHICS,
                    object_type="patient",
                    object_id=str(p.pk),
                    summary=f"Created chart {p.mrn} (synthetic demo data)",
                )
                for p in patients
            ],
            context=Context.system(actor_label),
        )
    return len(patients)
