"""Account writes: staff accounts, two-step verification, sign-in events."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapcare.accounts.models import User, staff_account_values
from kapcare.accounts.roles import ROLE_PERMISSIONS
from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.lib.concurrency import check_unchanged
from kapcare.website.mail import send_clinic_email_on_commit


def sync_role_groups(*, using: str = "default") -> None:
    """Create or update a group per role with exactly the permissions in roles.py."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = [
            Permission.objects.using(using).get(
                content_type__app_label=app, codename=code
            )
            for app, code in (perm.split(".") for perm in perms)
        ]
        group.permissions.set(wanted)


def record_account_event(
    *,
    request: HttpRequest,
    action: str,
    user_id: object,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a change to someone's account (who did it comes from the request)."""
    record_event(
        request=request,
        action=action,
        information=Information.ACCOUNT,
        object_type="user",
        object_id=user_id,
        summary=summary,
        detail=detail,
    )


def password_setup_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse(
        "accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token}
    )


def send_password_setup_link(user: User) -> None:
    """Email a link to choose a password (valid PASSWORD_RESET_TIMEOUT, one use)."""
    send_clinic_email_on_commit(
        "accounts/email/welcome",
        {"user": user, "link": password_setup_link(user)},
        user.email,
    )


def resend_password_setup_link(*, request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        send_password_setup_link(user)
        record_account_event(
            request=request,
            action=Action.UPDATE,
            user_id=user.pk,
            summary=f"Sent a new set-password link to {user.email}",
        )


def create_staff_member(
    *,
    request: HttpRequest,
    full_name: str,
    email: str,
    credentials: str,
    groups: list[Group],
) -> User:
    """Create an account with no password and email a link to choose one."""
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            None,
            full_name=full_name,
            credentials=credentials,
            kind=User.Kind.STAFF,
        )
        user.groups.set(groups)
        record_account_event(
            request=request,
            action=Action.CREATE,
            user_id=user.pk,
            summary=f"Created staff account {email} ({', '.join(g.name for g in groups)})",
        )
        send_password_setup_link(user)
    return user


def update_staff_member(
    *, request: HttpRequest, user: User, full_name: str, email: str, credentials: str,
    is_active: bool, groups: list[Group], seen: str | None,
) -> list[str]:  # fmt: skip
    """Save an edited staff account; raise ChangedMeanwhileError when it changed after
    the editor opened it (`seen` is the form's fingerprint of what they saw)."""
    with transaction.atomic():
        # Two admins editing one account: the row is locked, then compared with what
        # this editor saw, so a stale form cannot re-activate a deactivated nurse.
        # Read from the database: a bound ModelForm has already copied its input
        # onto `user`.
        stored = User.objects.select_for_update().get(pk=user.pk)
        check_unchanged(
            seen, staff_account_values(stored), what="this staff account",
            changed_by=last_changed_by("user", user.pk),
        )  # fmt: skip
        before = {
            "full_name": stored.full_name, "email": stored.email, "credentials": stored.credentials,
            "is_active": stored.is_active, "roles": sorted(stored.groups.values_list("name", flat=True)),
        }  # fmt: skip
        after = {
            "full_name": full_name, "email": email, "credentials": credentials,
            "is_active": is_active, "roles": sorted(g.name for g in groups),
        }  # fmt: skip
        changed = [k for k in before if before[k] != after[k]]
        if not changed:
            return []
        user.full_name, user.email, user.credentials, user.is_active = (
            full_name, email, credentials, is_active,
        )  # fmt: skip
        user.save(update_fields=["full_name", "email", "credentials", "is_active"])
        user.groups.set(groups)
        if not is_active:
            end_sessions_of(user)
        if "email" in changed:
            # Tell the old address, so a hijacked account does not go unnoticed.
            send_clinic_email_on_commit(
                "accounts/email/email_changed",
                {"user": user, "new_email": email},
                stored.email,
            )
        record_account_event(
            request=request,
            action=Action.UPDATE,
            user_id=user.pk,
            summary=f"Changed staff account {email}: {', '.join(changed)}",
            detail={"changes": {k: [before[k], after[k]] for k in changed}},
        )
    return changed


def end_sessions_of(user: User) -> int:
    """Delete every stored session of this user (deactivation; ASVS 7.4.2)."""
    theirs = [
        session.session_key
        for session in Session.objects.all().iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    # Deleted after the read: SQLite gives a running read no isolation from writes.
    Session.objects.filter(session_key__in=theirs).delete()
    return len(theirs)


def reset_two_factor(*, request: HttpRequest, user: User) -> None:
    """Remove a user's TOTP devices; they enrol again at their next sign-in."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        record_account_event(
            request=request,
            action=Action.UPDATE,
            user_id=user.pk,
            summary=f"Reset two-step verification for {user.email}",
        )


def start_totp_enrolment(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    return device


def confirm_totp_enrolment(*, request: HttpRequest, device: TOTPDevice) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(
            pk=device.pk
        ).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_account_event(
            request=request,
            action=Action.OTP_ENROLLED,
            user_id=device.user_id,
            summary="Enrolled an authenticator app",
        )
