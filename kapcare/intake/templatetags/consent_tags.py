from django import template

from kapcare.intake.consent import consent_status
from kapcare.intake.forms import PaperConsentForm
from kapcare.patients.models import Patient

register = template.Library()


@register.inclusion_tag("intake/partials/chart_consent.html", takes_context=True)
def chart_consent(context: template.Context, patient: Patient) -> dict[str, object]:
    """The chart's consent line: which version was signed and when, or that one is due."""
    status = consent_status(patient)
    return {
        "patient": patient,
        "status": status,
        "form": PaperConsentForm(
            initial={"version": status.current.version if status.current else 1}
        ),
        "csrf_token": context.get("csrf_token"),
        "perms": context.get("perms"),
    }
