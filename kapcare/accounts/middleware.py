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


def start_session_clock(request: HttpRequest) -> None:
    """Call right after login(): the absolute session limit counts from here."""
    request.session["signed_in_at"] = request.session["last_activity"] = time.time()


class SessionLimitsMiddleware:
    """Sign people out after STAFF_IDLE_TIMEOUT without a request (HIPAA
    164.312(a)(2)(iii), ASVS 7.3.1) or SESSION_COOKIE_AGE after signing in, however
    active they are (ASVS 7.3.2: 12 h)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            signed_in_at = session.setdefault("signed_in_at", now)
            last = session.get("last_activity")
            idle_limit = settings.STAFF_IDLE_TIMEOUT.total_seconds()
            if isinstance(last, (int, float)) and now - last > idle_limit:
                minutes = int(idle_limit // 60)
                return self._sign_out(
                    request,
                    Action.IDLE_LOGOUT,
                    f"Idle for more than {minutes} minutes",
                    f"You were signed out after {minutes} minutes without activity, "
                    "to protect patient information. Please sign in again.",
                )
            if now - signed_in_at > settings.SESSION_COOKIE_AGE:
                hours = settings.SESSION_COOKIE_AGE // 3600
                return self._sign_out(
                    request,
                    Action.IDLE_LOGOUT,
                    f"Session older than {hours} hours",
                    f"Sessions end {hours} hours after signing in. Please sign in again.",
                )
            if not isinstance(last, (int, float)) or now - last > _TOUCH_EVERY_SECONDS:
                session["last_activity"] = now
        return self.get_response(request)

    @staticmethod
    def _sign_out(
        request: HttpRequest, action: str, summary: str, message: str
    ) -> HttpResponse:
        record_event(
            request=request,
            action=action,
            information=Information.ACCOUNT,
            summary=summary,
        )
        logout(request)
        messages.info(request, message)
        login_url = reverse(settings.LOGIN_URL)
        return _redirect(
            request, f"{login_url}?{urlencode({'next': request.get_full_path()})}"
        )


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
