"""Raising, acknowledging and resolving safety alerts. Each write is audited."""

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.patients.models import Patient

if TYPE_CHECKING:
    from kapcare.intake.models import ConsultationRequest
from kapcare.safety.models import OnCallShift, SafetyAlert


class AlertStateError(Exception):
    """The alert is no longer in the state this change needs (someone else acted)."""


def raise_safety_alert(
    *,
    request: HttpRequest | None,
    patient: Patient | None,
    level: str,
    trigger: str,
    reason: str,
    source_type: str = "",
    source_id: str = "",
    evidence: dict[str, Any] | None = None,
    raised_by: User | None = None,
    consultation_request: "ConsultationRequest | None" = None,
) -> SafetyAlert:
    """Open an alert, inside the caller's transaction, so the data that triggered it and
    the alert commit or roll back together. One alert per triggering record. An alert
    is about a patient or, before there is a chart, a consultation request."""
    with transaction.atomic():
        if source_id:
            existing = SafetyAlert.objects.filter(
                source_type=source_type, source_id=source_id, reason=reason
            ).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                alert = SafetyAlert.objects.create(
                    patient=patient,
                    consultation_request=consultation_request,
                    level=level,
                    level_rank=SafetyAlert.LEVEL_RANKS[SafetyAlert.Level(level)],
                    trigger=trigger,
                    reason=reason[:300],
                    source_type=source_type,
                    source_id=source_id,
                    evidence=evidence or {},
                    raised_by=raised_by,
                )
        except IntegrityError:
            # The same trigger raced in twice; the other request's alert stands.
            return SafetyAlert.objects.get(
                source_type=source_type, source_id=source_id, reason=reason[:300]
            )
        record_event(
            request=request,
            actor=raised_by,
            action=Action.CREATE,
            patient=patient,
            information=Information.CLINICAL,
            object_type="safety_alert",
            object_id=alert.pk,
            summary=f"Safety alert raised ({level}): {reason}",
        )
    return alert


def _record_alert_change(
    request: HttpRequest, alert: SafetyAlert, summary: str, detail: dict[str, Any]
) -> None:
    record_event(
        request=request,
        action=Action.UPDATE,
        patient=alert.patient,
        information=Information.CLINICAL,
        object_type="safety_alert",
        object_id=alert.pk,
        summary=summary,
        detail=detail,
    )


def acknowledge_safety_alert(
    *, request: HttpRequest, alert: SafetyAlert, action: str, note: str, by: User
) -> SafetyAlert:
    if action not in SafetyAlert.Action.values:
        raise ValueError("Choose the action you took.")
    if action == SafetyAlert.Action.OTHER and not note.strip():
        raise ValueError("Describe the action you took.")
    with transaction.atomic():
        # Conditional update: two clinicians acknowledging at once cannot both win.
        changed = SafetyAlert.objects.filter(
            pk=alert.pk, state=SafetyAlert.State.OPEN
        ).update(
            state=SafetyAlert.State.ACKNOWLEDGED,
            acknowledged_at=timezone.now(),
            acknowledged_by=by,
            action=action,
            action_note=note.strip(),
        )
        if not changed:
            raise AlertStateError("This alert was already acknowledged.")
        _record_alert_change(
            request,
            alert,
            f"Safety alert acknowledged: {SafetyAlert.Action(action).label}",
            {"action": action, "note": note.strip()},
        )
    alert.refresh_from_db()
    return alert


def resolve_safety_alert(
    *, request: HttpRequest, alert: SafetyAlert, resolution: str, note: str, by: User
) -> SafetyAlert:
    if resolution not in SafetyAlert.Resolution.values:
        raise ValueError("Choose how the alert was resolved.")
    if resolution == SafetyAlert.Resolution.RAISED_IN_ERROR and not note.strip():
        raise ValueError("Say why the alert was raised in error.")
    with transaction.atomic():
        changed = SafetyAlert.objects.filter(
            pk=alert.pk, state=SafetyAlert.State.ACKNOWLEDGED
        ).update(
            state=SafetyAlert.State.RESOLVED,
            resolved_at=timezone.now(),
            resolved_by=by,
            resolution=resolution,
            resolution_note=note.strip(),
        )
        if not changed:
            raise AlertStateError(
                "Only an acknowledged alert can be resolved; it is open or already resolved."
            )
        _record_alert_change(
            request,
            alert,
            f"Safety alert resolved: {SafetyAlert.Resolution(resolution).label}",
            {"resolution": resolution, "note": note.strip()},
        )
    alert.refresh_from_db()
    return alert


def add_on_call_shift(
    *, request: HttpRequest, shift: OnCallShift, by: User
) -> OnCallShift:
    with transaction.atomic():
        shift.created_by = by
        shift.save()
        record_event(
            request=request,
            action=Action.CREATE,
            information=Information.CLINIC,
            object_type="on_call_shift",
            object_id=shift.pk,
            summary=f"Put {shift.physician.display_name} on call {shift.period}",
        )
    return shift


def remove_on_call_shift(*, request: HttpRequest, shift: OnCallShift) -> None:
    with transaction.atomic():
        record_event(
            request=request,
            action=Action.UPDATE,
            information=Information.CLINIC,
            object_type="on_call_shift",
            object_id=shift.pk,
            summary=f"Removed {shift.physician.display_name}'s on-call shift {shift.period}",
        )
        shift.delete()
