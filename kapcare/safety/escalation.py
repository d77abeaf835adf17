"""Escalating safety alerts nobody acknowledged in time (run by the clinic clock).

Stage 1 pages whoever is on call (email, and a text if the shift has a phone);
nobody on call records that and goes straight on to stage 2, the clinic admins.
Each message is a row written before it is sent (unique per alert, stage, person
and channel), so a re-run or a restarted worker never sends one twice, and a
message that failed is tried again up to MAX_ATTEMPTS times. Every notification
is recorded in the audit log. Messages name no patient: the link opens the queue.
"""

import datetime as dt
import logging
import uuid
import zoneinfo
from functools import cache

import holidays
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.sms import SmsError, send_sms
from kapcare.safety.deadlines import ADMIN, ON_CALL, DeadlinePolicy, escalation_times
from kapcare.safety.models import AlertNotification, OnCallShift, SafetyAlert
from kapcare.website.mail import clinic_sender
from kapcare.website.models import ClinicProfile, get_clinic_profile

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


@cache
def _statutory_holidays(province: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("CA", subdiv=province, years=year))


class ClinicHolidays:
    """Statutory holidays of the clinic's province, any year."""

    def __init__(self, province: str) -> None:
        self.province = province

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and day in _statutory_holidays(
            self.province, day.year
        )


def policy_for(clinic: ClinicProfile) -> DeadlinePolicy:
    return DeadlinePolicy(
        high_minutes=clinic.high_alert_deadline_minutes,
        moderate_business_days=clinic.moderate_alert_deadline_business_days,
    )


def due_times(alert: SafetyAlert, clinic: ClinicProfile) -> dict[str, dt.datetime]:
    return escalation_times(
        alert.level,
        alert.raised_at.astimezone(zoneinfo.ZoneInfo(clinic.time_zone)),
        policy_for(clinic),
        ClinicHolidays(clinic.province),
    )


def on_call_at(moment: dt.datetime) -> list[OnCallShift]:
    return list(
        OnCallShift.objects.filter(
            starts_at__lte=moment, ends_at__gt=moment, physician__is_active=True
        ).select_related("physician")
    )


def _admins() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, groups__name=Role.CLINIC_ADMIN.value
        ).distinct()
    )


def _plan(
    alert: SafetyAlert, stage: str, due_at: dt.datetime
) -> list[AlertNotification]:
    """The messages a stage calls for, not yet saved."""
    rows = []
    if stage == ON_CALL:
        # Whoever is on call now: after a worker outage the shift at due_at may be over.
        for shift in on_call_at(max(due_at, timezone.now())):
            rows.append(
                AlertNotification(
                    alert=alert,
                    stage=stage,
                    recipient=shift.physician,
                    channel=AlertNotification.Channel.EMAIL,
                    sent_to=shift.physician.email,
                    due_at=due_at,
                )
            )
            if shift.page_phone:
                rows.append(
                    AlertNotification(
                        alert=alert,
                        stage=stage,
                        recipient=shift.physician,
                        channel=AlertNotification.Channel.SMS,
                        sent_to=shift.page_phone,
                        due_at=due_at,
                    )
                )
    else:
        rows = [
            AlertNotification(
                alert=alert,
                stage=stage,
                recipient=admin,
                channel=AlertNotification.Channel.EMAIL,
                sent_to=admin.email,
                due_at=due_at,
            )
            for admin in _admins()
        ]
    if not rows:
        rows.append(
            AlertNotification(
                alert=alert,
                stage=stage,
                channel=AlertNotification.Channel.NONE,
                status=AlertNotification.Status.NO_RECIPIENT,
                due_at=due_at,
                detail="Nobody on call"
                if stage == ON_CALL
                else "No active clinic admin",
            )
        )
    return rows


def _record(
    alert: SafetyAlert, rows: list[AlertNotification]
) -> list[AlertNotification]:
    """Save the stage's rows and their audit events in one transaction; rows another
    worker already saved are skipped."""
    saved = []
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            saved.append(row)
            who = row.recipient.display_name if row.recipient else "nobody"
            record_event(
                request=None,
                action=Action.UPDATE,
                patient=alert.patient,
                information=Information.CLINICAL,
                object_type="safety_alert",
                object_id=alert.pk,
                summary=(
                    f"Escalated unacknowledged {alert.level} alert to "
                    f"{row.get_stage_display().lower()} {who} "
                    f"({row.get_channel_display().lower()})"
                    + (f": {row.detail}" if row.detail else "")
                ),
            )
    return saved


def _message(alert: SafetyAlert, stage: str) -> tuple[str, str]:
    clinic = get_clinic_profile()
    minutes = int((timezone.now() - alert.raised_at).total_seconds() // 60)
    url = settings.SITE_URL + reverse("safety:alert_queue")
    subject = f"{clinic.name}: {alert.level} safety alert not acknowledged"
    body = (
        f"A {alert.level} safety alert raised {minutes} minutes ago has not been "
        f"acknowledged. "
        + (
            "You are on call. "
            if stage == ON_CALL
            else "The on-call stage has passed. "
        )
        + f"Open the alert queue to act on it: {url}"
    )
    return subject, body


def _deliver(row: AlertNotification) -> None:
    subject, body = _message(row.alert, row.stage)
    row.attempts += 1
    try:
        if row.channel == AlertNotification.Channel.SMS:
            send_sms(row.sent_to, body)
        else:
            send_mail(subject, body, clinic_sender(), [row.sent_to])
    except (OSError, SmsError) as exc:
        row.status = AlertNotification.Status.FAILED
        row.detail = str(exc)[:300]
        logger.warning("Escalation %s to %s failed: %s", row.pk, row.sent_to, exc)
    else:
        row.status = AlertNotification.Status.SENT
        row.sent_at = timezone.now()
    row.save(update_fields=["status", "attempts", "detail", "sent_at"])


def escalate_overdue_alerts(*, now: dt.datetime | None = None) -> int:
    """Send every escalation that is due for alerts still open. Returns messages sent."""
    now = now or timezone.now()
    clinic = get_clinic_profile()
    sent = 0
    open_alerts = SafetyAlert.objects.open().select_related("patient")
    done = set(
        AlertNotification.objects.filter(alert__state=SafetyAlert.State.OPEN)
        .values_list("alert_id", "stage")
        .distinct()
    )
    nobody = set(
        AlertNotification.objects.filter(
            alert__state=SafetyAlert.State.OPEN,
            stage=ON_CALL,
            status=AlertNotification.Status.NO_RECIPIENT,
        ).values_list("alert_id", flat=True)
    )
    for alert in list(open_alerts):
        try:
            sent += _escalate(
                alert, due_times(alert, clinic), done, now, alert.pk in nobody
            )
        except Exception:
            logger.exception("Escalating alert %s failed", alert.pk)
    retry = AlertNotification.objects.filter(
        status__in=[AlertNotification.Status.PENDING, AlertNotification.Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        alert__state=SafetyAlert.State.OPEN,
        created_at__lt=now - dt.timedelta(minutes=1),
    ).select_related("alert", "alert__patient")
    for row in retry:
        try:
            _deliver(row)
        except Exception:
            logger.exception("Retrying escalation %s failed", row.pk)
            continue
        sent += row.status == AlertNotification.Status.SENT
    return sent


def _escalate(
    alert: SafetyAlert,
    due: dict[str, dt.datetime],
    done: set[tuple[uuid.UUID, str]],
    now: dt.datetime,
    nobody_on_call: bool,
) -> int:
    """Run every stage of one alert that is due. Nobody on call sends the admin
    stage at once rather than at its own time."""
    sent = 0
    for stage in (ON_CALL, ADMIN):
        if (alert.pk, stage) in done:
            continue
        if due[stage] > now and not (stage == ADMIN and nobody_on_call):
            continue
        for row in _record(alert, _plan(alert, stage, min(due[stage], now))):
            if row.channel == AlertNotification.Channel.NONE:
                nobody_on_call = stage == ON_CALL
                continue
            _deliver(row)
            sent += row.status == AlertNotification.Status.SENT
    return sent
