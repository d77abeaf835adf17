"""Role checks for views: refuse with 403 and record the refusal in the audit log."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from kapcare.audit.services import Action, record_event

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def refuse(
    request: HttpRequest, reason: str, *, patient: Any = None
) -> PermissionDenied:
    record_event(
        request=request,
        action=Action.ACCESS_DENIED,
        patient=patient,
        object_type="url",
        object_id=request.path[:64],
        summary=reason,
    )
    return PermissionDenied(reason)


def staff_permission_required(*perms: str) -> Callable[[ViewFunc], ViewFunc]:
    """Allow clinic staff holding every named permission; refuse patients and other roles."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            user = request.user
            if not (
                user.is_authenticated and user.is_clinic_staff and user.has_perms(perms)
            ):
                raise refuse(request, f"Needs {', '.join(perms)}")
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator


def patient_portal_required(view: ViewFunc) -> ViewFunc:
    """Allow a signed-in patient whose account is linked to a chart."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (user.is_authenticated and user.is_patient and hasattr(user, "patient")):
            raise refuse(request, "The portal is for patients only")
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapped)


def otp_exempt(view: ViewFunc) -> ViewFunc:
    """Reachable before two-step verification (sign-in, enrolment, sign-out)."""
    view.otp_exempt = True  # type: ignore[attr-defined]
    return view
