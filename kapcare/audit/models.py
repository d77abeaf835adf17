"""The append-only, hash-chained audit log (PHIPA s.10.1 style; shared/reference/security-reliability.md §1a).

Every event records who (actor, role), which patient, what (action, type of
information, object), when, and from where (IP, user agent, request id).
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def _raw_delete(self, using: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        EXPORT = "export", "Exported"
        PRINT = "print", "Printed"
        ACCESS_DENIED = "access_denied", "Access refused"
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        LOCKED_OUT = "locked_out", "Locked out"
        LOGOUT = "logout", "Signed out"
        IDLE_LOGOUT = "idle_logout", "Signed out after idle time"
        OTP_ENROLLED = "otp_enrolled", "Enrolled two-step verification"
        OTP_VERIFIED = "otp_verified", "Passed two-step verification"
        OTP_FAILED = "otp_failed", "Failed two-step verification"
        PASSWORD_RESET_REQUESTED = (
            "password_reset_requested",
            "Requested a password reset",
        )
        PASSWORD_CHANGED = "password_changed", "Changed password"
        INVITATION_SENT = "invitation_sent", "Sent a portal invitation"
        INVITATION_ACCEPTED = "invitation_accepted", "Accepted a portal invitation"
        INVITATION_FAILED = "invitation_failed", "Failed a portal invitation check"

    class Information(models.TextChoices):
        DEMOGRAPHICS = "demographics", "Demographics"
        CLINICAL = "clinical", "Clinical record"
        PSYCHOTHERAPY = "psychotherapy", "Psychotherapy notes"
        HISTORY = "history", "Change history"
        PATIENT_LIST = "patient_list", "Patient list"
        ACCESS_LOG = "access_log", "Access log"
        ACCOUNT = "account", "Account"
        CLINIC = "clinic", "Clinic settings"

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=200, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    information = models.CharField(
        max_length=40, choices=Information.choices, blank=True
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(
                fields=["patient", "-occurred_at"], name="audit_event_patient_time"
            ),
            models.Index(
                fields=["actor", "-occurred_at"], name="audit_event_actor_time"
            ),
            models.Index(
                fields=["object_type", "object_id"], name="audit_event_object"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label or 'system'} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The newest event's sequence number and hash: the lock every writer takes, and
    what lets audit_verify notice that the newest events were deleted."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
