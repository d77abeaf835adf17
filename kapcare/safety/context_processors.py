from django.http import HttpRequest

from kapcare.safety.models import SafetyAlert


def open_alerts(request: HttpRequest) -> dict[str, int]:
    """How many alerts nobody has acknowledged, for every clinical staff page's header."""
    user = getattr(request, "user", None)
    if (
        user is None
        or not user.is_authenticated
        or not user.has_perm("patients.view_clinical_record")
    ):
        return {}
    return {"open_alert_count": SafetyAlert.objects.open().count()}
