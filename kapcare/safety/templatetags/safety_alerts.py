import uuid

from django import template

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
        "alerts": alerts,
        "flag_key": uuid.uuid4().hex,
        "actions": SafetyAlert.Action.choices,
        "resolutions": SafetyAlert.Resolution.choices,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
