import uuid

from django import template

from kapcare.intake.models import ConsultationRequest
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert

register = template.Library()


@register.inclusion_tag("safety/partials/chart_alerts.html", takes_context=True)
def chart_alerts(context: template.Context, patient: Patient) -> dict[str, object]:
    """The chart header's unresolved alerts, with the forms to act on them (one query)."""
    alerts = list(
        SafetyAlert.objects.filter(patient=patient)
        .unresolved()
        .by_urgency()
        .select_related("acknowledged_by")
    )
    return {
        "patient": patient,
        "subject_id": patient.pk,
        "alerts": alerts,
        "flag_key": uuid.uuid4().hex,
        "actions": SafetyAlert.Action.choices,
        "resolutions": SafetyAlert.Resolution.choices,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("safety/partials/chart_alerts.html", takes_context=True)
def request_alerts(
    context: template.Context, consult: ConsultationRequest
) -> dict[str, object]:
    """Unresolved alerts about a consultation request (an attached self-check)."""
    alerts = list(
        SafetyAlert.objects.filter(consultation_request=consult)
        .unresolved()
        .by_urgency()
        .select_related("acknowledged_by")
    )
    return {
        "patient": None,
        "subject_id": consult.pk,
        "alerts": alerts,
        "actions": SafetyAlert.Action.choices,
        "resolutions": SafetyAlert.Resolution.choices,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
