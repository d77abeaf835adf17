import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapcare.accounts import services
from kapcare.accounts.access import otp_exempt, staff_permission_required
from kapcare.accounts.forms import (
    EmailAuthenticationForm,
    PasswordResetForm,
    StaffForm,
    TokenForm,
)
from kapcare.accounts.middleware import start_session_clock
from kapcare.accounts.models import User, staff_account_values
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import shown_again
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.website.context_processors import clinic_for
from kapcare.website.mail import clinic_sender


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        start_session_clock(self.request)
        record_event(
            request=self.request, action=Action.LOGIN, information=Information.ACCOUNT,
            summary="Signed in with password",
        )  # fmt: skip
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if "username" in form.data:
            record_event(
                request=self.request,
                action=Action.LOGIN_FAILED,
                information=Information.ACCOUNT,
                summary="Wrong email or password",
                detail={"email": str(form.data.get("username", ""))[:254]},
            )
        return super().form_invalid(form)


login_view = otp_exempt(login_not_required(LoginView.as_view()))


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email being tried, lower-cased, so "Nurse@X" and "nurse@x" share one lock."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).replace("\x00", "").strip().lower()[:254]


def lockout(
    request: HttpRequest, original_response: Any, credentials: dict[str, Any] | None
) -> HttpResponse:
    """django-axes lockout: 429 with a clear message, recorded in the audit log."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    record_event(
        request=request,
        action=Action.LOCKED_OUT,
        information=Information.ACCOUNT,
        summary=f"Too many failed sign-ins; locked for {minutes} minutes",
        detail={"email": str((credentials or {}).get("username", ""))[:254]},
    )
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


@otp_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_event(
            request=request,
            action=Action.LOGOUT,
            information=Information.ACCOUNT,
            summary="Signed out",
        )
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect(settings.LOGIN_URL)


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each person to where their work starts."""
    user = request.user
    if user.is_patient:
        return redirect("portal:home")
    if user.has_perm("patients.view_clinical_record"):
        return redirect("safety:caseload")
    if user.has_perm("patients.view_patient"):
        return redirect("patients:patient_list")
    if user.has_perm("accounts.manage_staff"):
        return redirect("accounts:staff_list")
    return render(request, "accounts/no_role.html")


def _qr_data_uri(device: TOTPDevice) -> str:
    return str(
        segno.make(device.config_url, error="m").svg_data_uri(
            scale=5, dark="#111", light="#fff"
        )
    )


@otp_exempt
def otp_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show a QR code for an authenticator app, then confirm it with a first code."""
    if user_has_device(request.user, confirmed=True) and not request.user.is_verified():
        return redirect("accounts:otp_verify")
    device = services.start_totp_enrolment(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            services.confirm_totp_enrolment(request=request, device=device)
            otp_login(request, device)
            messages.success(request, "Two-step verification is set up.")
            return HttpResponseRedirect(_safe_next(request, reverse("accounts:home")))
        form.add_error(
            "token",
            "That code did not match. Check your phone's clock and try the newest code.",
        )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    context = {
        "form": form,
        "qr": _qr_data_uri(device),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": _safe_next(request, ""),
    }
    return render(request, "accounts/otp_enrol.html", context)


@otp_exempt
def otp_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            record_event(
                request=request,
                action=Action.OTP_VERIFIED,
                information=Information.ACCOUNT,
                summary="Passed two-step verification",
            )
            return HttpResponseRedirect(_safe_next(request, reverse("accounts:home")))
        record_event(
            request=request,
            action=Action.OTP_FAILED,
            information=Information.ACCOUNT,
            summary="Wrong or reused code",
        )
        form.add_error(
            "token",
            "That code did not work. Codes change every 30 seconds and each works once; "
            "after repeated failures you must wait a little longer between tries.",
        )
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "next": _safe_next(request, "")},
    )


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        self.from_email = clinic_sender()
        self.extra_email_context = {
            "clinic": clinic_for(self.request),
            "site_url": settings.SITE_URL,
        }
        record_event(
            request=self.request,
            action=Action.PASSWORD_RESET_REQUESTED,
            information=Information.ACCOUNT,
            summary="Asked for a password reset link",
            detail={"email": str(form.cleaned_data["email"])[:254]},
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record_event(
            request=self.request,
            actor=form.user,
            action=Action.PASSWORD_CHANGED,
            information=Information.ACCOUNT,
            summary="Set a new password from an emailed link",
        )
        return response


def _public(view: Any) -> Any:
    return otp_exempt(login_not_required(view))


password_reset = _public(PasswordResetView.as_view())
password_reset_done = _public(
    auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"
    )
)
password_reset_confirm = _public(PasswordResetConfirmView.as_view())
password_reset_complete = _public(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)


@staff_permission_required("accounts.manage_staff")
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    staff = (
        User.objects.filter(kind=User.Kind.STAFF)
        .prefetch_related("groups")
        .order_by("full_name")
    )
    if query:
        staff = staff.filter(full_name__icontains=query) | staff.filter(
            email__icontains=query
        )
    page = Paginator(staff, 25).get_page(request.GET.get("page"))
    devices = set(
        TOTPDevice.objects.filter(
            user__in=[u.pk for u in page], confirmed=True
        ).values_list("user_id", flat=True)
    )
    return render(
        request,
        "accounts/staff_list.html",
        {"page": page, "query": query, "enrolled": devices},
    )


@staff_permission_required("accounts.manage_staff")
def staff_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.create_staff_member(
            request=request,
            full_name=data["full_name"],
            email=data["email"],
            credentials=data["credentials"],
            groups=form.selected_groups(),
        )
        messages.success(
            request,
            f"Account created. {user.email} has been emailed a link to set a password.",
        )
        return redirect("accounts:staff_list")
    return render(request, "accounts/staff_form.html", {"form": form, "creating": True})


@staff_permission_required("accounts.manage_staff")
def staff_edit(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id, kind=User.Kind.STAFF)
    form = StaffForm(request.POST or None, instance=member, editor=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.update_staff_member(
                request=request, user=member, full_name=data["full_name"],
                email=data["email"], credentials=data["credentials"],
                is_active=data["is_active"], groups=form.selected_groups(),
                seen=data["seen"],
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            member = User.objects.get(pk=member.pk)
            form = shown_again(
                lambda data: StaffForm(data, instance=member, editor=request.user),
                request.POST, fingerprint(staff_account_values(member)), exc,
            )  # fmt: skip
            status = 409
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return redirect("accounts:staff_list")
    member.refresh_from_db()
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "member": member, "creating": False},
        status=status,
    )


@staff_permission_required("accounts.manage_staff")
@require_POST
def staff_send_setup_link(
    request: AuthenticatedHttpRequest, user_id: str
) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id, kind=User.Kind.STAFF, is_active=True)
    services.resend_password_setup_link(request=request, user=member)
    messages.success(request, f"A new set-password link was emailed to {member.email}.")
    return redirect("accounts:staff_edit", user_id=member.pk)


@staff_permission_required("accounts.manage_staff")
@require_POST
def staff_reset_two_factor(
    request: AuthenticatedHttpRequest, user_id: str
) -> HttpResponse:
    member = get_object_or_404(User, pk=user_id, kind=User.Kind.STAFF)
    services.reset_two_factor(request=request, user=member)
    messages.success(
        request,
        f"{member.full_name} will set up two-step verification at their next sign-in.",
    )
    return redirect("accounts:staff_edit", user_id=member.pk)
