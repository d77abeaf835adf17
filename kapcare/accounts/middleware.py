import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

from kapcare.audit.services import Action, Information, record_event

# Writing the session on every request would cost an UPDATE per page; refreshing the
# timestamp once this many seconds have passed keeps the idle limit accurate to 30 s.
_TOUCH_EVERY_SECONDS = 30


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class IdleTimeoutMiddleware:
    """Sign out staff after STAFF_IDLE_TIMEOUT without a request (HIPAA 164.312(a)(2)(iii), ASVS 7.3.1)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            limit = settings.STAFF_IDLE_TIMEOUT.total_seconds()
            now = time.time()
            last = request.session.get("last_activity")
            if isinstance(last, (int, float)) and now - last > limit:
                record_event(
                    request=request,
                    action=Action.IDLE_LOGOUT,
                    information=Information.ACCOUNT,
                    summary=f"Idle for more than {int(limit // 60)} minutes",
                )
                logout(request)
                minutes = int(limit // 60)
                messages.info(
                    request,
                    f"You were signed out after {minutes} minutes without activity, "
                    "to protect patient information. Please sign in again.",
                )
                login_url = reverse(settings.LOGIN_URL)
                return _redirect(
                    request,
                    f"{login_url}?{urlencode({'next': request.get_full_path()})}",
                )
            if not isinstance(last, (int, float)) or now - last > _TOUCH_EVERY_SECONDS:
                request.session["last_activity"] = now
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """Staff reach nothing but sign-in pages until they pass TOTP (enrolling first if needed).

    Patients who chose to enrol TOTP are held to it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if getattr(view_func, "otp_exempt", False) or not getattr(
            view_func, "login_required", True
        ):
            return None
        has_device = user_has_device(user, confirmed=True)
        if user.is_patient and not has_device:
            return None
        target = "accounts:otp_verify" if has_device else "accounts:otp_enrol"
        return _redirect(
            request, f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
        )
