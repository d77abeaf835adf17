from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kapcare.accounts.access import otp_exempt, patient_portal_required
from kapcare.accounts.middleware import start_session_clock
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import Action, Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.services import open_links_for
from kapcare.patients import services
from kapcare.patients.access import get_own_chart
from kapcare.patients.forms import InvitationAcceptForm

ACCESS_LOG_ACTIONS = [
    Action.VIEW, Action.CREATE, Action.UPDATE, Action.EXPORT, Action.PRINT, Action.SEARCH,
    Action.INVITATION_SENT, Action.INVITATION_ACCEPTED,
]  # fmt: skip


@patient_portal_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request,
        information=Information.DEMOGRAPHICS,
        summary="Opened the portal home page",
    )
    context = {"patient": patient, "open_links": open_links_for(patient)}
    return render(request, "patients/portal_home.html", context)


@patient_portal_required
def access_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who looked at my record (PHIPA ss.52-54; IPC PHIPA Decision 84)."""
    patient = get_own_chart(
        request,
        information=Information.ACCESS_LOG,
        summary="Viewed who looked at their record",
    )
    events = (
        AuditEvent.objects.filter(patient=patient, action__in=ACCESS_LOG_ACTIONS)
        .select_related("actor")
        .order_by("-seq")
    )
    page = Paginator(events, 25).get_page(request.GET.get("page"))
    return render(
        request, "patients/portal_access_log.html", {"patient": patient, "page": page}
    )


@otp_exempt
@login_not_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.find_invitation(token)
    if invitation is None or not invitation.is_usable():
        return render(
            request,
            "patients/invitation_invalid.html",
            status=410 if invitation else 404,
        )
    if request.user.is_authenticated:
        messages.info(request, "Sign out first to accept a portal invitation.")
        return redirect("accounts:home")
    form = InvitationAcceptForm(request.POST or None, email=invitation.sent_to)
    if request.method == "POST" and form.is_valid():
        user = services.accept_portal_invitation(
            request=request,
            invitation=invitation,
            born_on=form.cleaned_data["born_on"],
            password=form.cleaned_data["password1"],
        )
        if user is not None:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[-1])
            start_session_clock(request)
            messages.success(request, "Welcome. Your portal account is ready.")
            return redirect("portal:home")
        invitation.refresh_from_db()
        if not invitation.is_usable():
            return render(request, "patients/invitation_invalid.html", status=410)
        form.add_error(
            "born_on", "That date of birth does not match our records. Please check it."
        )
    return render(
        request,
        "patients/invitation_accept.html",
        {"form": form, "invitation": invitation},
    )
