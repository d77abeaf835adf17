from django.http import HttpRequest

from kapcare.website.models import ClinicProfile, get_clinic_profile


def clinic_for(request: HttpRequest) -> ClinicProfile:
    """The clinic profile, loaded once per request."""
    cached: ClinicProfile | None = getattr(request, "_clinic_profile", None)
    if cached is None:
        cached = get_clinic_profile()
        request._clinic_profile = cached  # type: ignore[attr-defined]
    return cached


def clinic(request: HttpRequest) -> dict[str, ClinicProfile]:
    return {"clinic": clinic_for(request)}
