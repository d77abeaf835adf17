import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kapcare.website.context_processors import clinic_for


class ClinicTimeZoneMiddleware:
    """Show every date and time in the clinic's own time zone (America/Toronto by default)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(("/static/", "/healthz")):
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(clinic_for(request).time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
