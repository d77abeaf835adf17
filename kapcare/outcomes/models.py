"""Outcomes: the record of each cohort export (who, when, which filters, whether
identifiable and why), which also carries the dashboard's permissions."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class CohortExport(models.Model):
    """One CSV export of the dashboard's cohort."""

    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(default=timezone.now)
    filters = models.JSONField(default=dict)
    identifiable = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-exported_at"]
        default_permissions = ()
        permissions = [
            ("view_clinic_outcomes", "See the clinic outcome dashboard"),
            ("export_identifiable", "Export identifiable cohort rows, with a reason"),
        ]

    def __str__(self) -> str:
        kind = "identifiable" if self.identifiable else "pseudonymised"
        return f"Cohort export ({kind}, {self.rows} rows) at {self.exported_at:%Y-%m-%d %H:%M}"


class ReportDelivery(models.Model):
    """A progress report emailed to a referrer; the form's key makes a repeated
    submit (a double click) send it once."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    to = models.EmailField()
    submission_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"Progress report to {self.to} at {self.sent_at:%Y-%m-%d %H:%M}"
