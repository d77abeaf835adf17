"""Messages to patients about their appointments: confirmation (with an .ics),
reminders, changes and cancellations, by email and text message.

A message is a row (AppointmentMessage) written in the same transaction as the
booking that calls for it, then sent by a task queued on commit or, if that task
is lost, by the clinic clock. Each row has an idempotency key, is claimed before
it is sent and marked sent after, so a re-run or a second worker never sends it
twice (see AppointmentMessage). The patient's contact preference decides the
channels, both when the message is queued and again just before it is sent.
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.lib.concurrency import check_unchanged
from kapcare.lib.sms import SmsError, send_sms
from kapcare.measures.schedules import Repeat
from kapcare.measures.services import open_links_for, send_event_questionnaires
from kapcare.patients.models import Patient
from kapcare.scheduling.ical import patient_ics
from kapcare.scheduling.models import (
    Appointment,
    AppointmentMessage,
    AppointmentType,
    ContactPreference,
    contact_preference_values,
)
from kapcare.scheduling.reminders import reminder_due
from kapcare.website.mail import clinic_sender, render_text
from kapcare.website.models import clinic_zone, get_clinic_profile

logger = logging.getLogger(__name__)

Kind = AppointmentMessage.Kind
Channel = AppointmentMessage.Channel
Status = AppointmentMessage.Status

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)
PICK_UP_AFTER = timedelta(seconds=30)
SMS_PREPARATION_CHARS = 600
OPT_OUT_SALT = "kapcare.scheduling.opt-out"
OPT_OUT_MAX_AGE = timedelta(days=180)
DOSING_KINDS = (AppointmentType.Kind.DOSING, AppointmentType.Kind.BOOSTER)
LIVE = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)


def preference_for(patient: Patient) -> ContactPreference:
    """The saved preference, or the default (email only) unsaved."""
    try:
        return patient.contact_preference
    except ContactPreference.DoesNotExist:
        return ContactPreference(patient=patient)


def addresses_for(patient: Patient) -> list[tuple[str, str]]:
    """(channel, address) pairs the patient allows and we hold an address for."""
    preference = preference_for(patient)
    pairs = []
    if preference.by_email and patient.email:
        pairs.append((Channel.EMAIL.value, patient.email))
    if preference.by_sms and patient.phone:
        pairs.append((Channel.SMS.value, patient.phone))
    return pairs


def reach_problem(patient: Patient) -> str:
    """Why this patient gets no appointment messages, or "" if they do."""
    preference = preference_for(patient)
    if preference.opted_out:
        return "The patient has turned off appointment messages."
    if not addresses_for(patient):
        wanted = "email address" if preference.by_email else "mobile number"
        return f"No appointment messages: the chart has no {wanted}."
    return ""


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _queue(
    appointment: Appointment,
    kind: str,
    key: str,
    *,
    request: HttpRequest | None = None,
    hours_before: int | None = None,
) -> list[AppointmentMessage]:
    """Write one row per allowed channel (inside the caller's transaction) and send
    them once it commits. A key already used queues nothing."""
    patient = appointment.patient
    queued = []
    for channel, address in addresses_for(patient):
        row = AppointmentMessage(
            key=key, appointment=appointment, patient=patient, kind=kind,
            channel=channel, sent_to=address, for_starts_at=appointment.starts_at,
            hours_before=hours_before,
        )  # fmt: skip
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue
        queued.append(row)
        what = row.get_kind_display().lower()
        if hours_before:
            what += f" ({hours_before} h before)"
        record_event(
            request=request,
            action=Action.CREATE,
            patient=patient,
            information=Information.DEMOGRAPHICS,
            object_type="appointment_message",
            object_id=row.pk,
            summary=f"Queued a {what} of {appointment.appointment_type.name.lower()} "
            f"by {row.get_channel_display().lower()} to {address}",
        )
    if queued:
        ids = [str(row.pk) for row in queued]
        transaction.on_commit(lambda: _enqueue(ids))
    return queued


def _enqueue(ids: list[str]) -> None:
    """Hand the rows to the worker; if this fails the clock sends them anyway."""
    from kapcare.scheduling.tasks import deliver_appointment_messages

    try:
        deliver_appointment_messages.enqueue(ids)
    except Exception:
        logger.exception("Could not queue appointment messages %s", ids)


def queue_confirmation(
    appointment: Appointment, *, request: HttpRequest | None = None
) -> list[AppointmentMessage]:
    key = f"confirm:{appointment.pk}:{_stamp(appointment.starts_at)}"
    return _queue(appointment, Kind.CONFIRMATION, key, request=request)


def queue_series_confirmation(
    appointments: Sequence[Appointment], *, request: HttpRequest | None = None
) -> list[AppointmentMessage]:
    """One message for a whole booked series, with every appointment in its .ics."""
    first = min(appointments, key=lambda a: a.starts_at)
    return _queue(first, Kind.SERIES, f"series:{first.series}", request=request)


def _moved(appointment: Appointment) -> str:
    """Identifies one booking or move of the appointment (moving back to an
    earlier time is a new move, with its own messages)."""
    return appointment.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")


def queue_change(
    appointment: Appointment, *, request: HttpRequest | None = None
) -> list[AppointmentMessage]:
    key = f"change:{appointment.pk}:{_moved(appointment)}"
    return _queue(appointment, Kind.CHANGE, key, request=request)


def queue_cancellation(
    appointment: Appointment, *, request: HttpRequest | None = None
) -> list[AppointmentMessage]:
    return _queue(
        appointment, Kind.CANCELLATION, f"cancel:{appointment.pk}", request=request
    )


def resend_confirmation(
    appointment: Appointment, *, request: HttpRequest
) -> list[AppointmentMessage]:
    """Staff asked for the confirmation again (e.g. one whose fate is unknown). A
    second click while one is still on its way queues nothing more."""
    on_its_way = list(
        AppointmentMessage.objects.filter(
            appointment=appointment, key__startswith="resend:",
            status__in=[Status.PENDING, Status.SENDING],
        )
    )  # fmt: skip
    if on_its_way:
        return on_its_way
    with transaction.atomic():
        return _queue(
            appointment, Kind.CONFIRMATION,
            f"resend:{appointment.pk}:{uuid.uuid4().hex}", request=request,
        )  # fmt: skip


def queue_due_reminders(*, now: datetime | None = None) -> list[AppointmentMessage]:
    """Queue every reminder whose time has come (reminders.reminder_due), and for a
    dosing session send the questionnaires due before it with the reminder.
    Idempotent: a reminder's key names the appointment, its time and the hours."""
    now = now or timezone.now()
    clinic = get_clinic_profile()
    hours = clinic.reminder_hours
    zone = ZoneInfo(clinic.time_zone)
    if not hours:
        return []
    appointments = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=max(hours)),
        ).select_related("patient__contact_preference", "appointment_type")
    )
    booked_at = {a.pk: a.updated_at for a in appointments}
    sent: dict[uuid.UUID, set[int]] = {}
    for appointment_id, created_at, hours_before in AppointmentMessage.objects.filter(
        appointment__in=appointments, kind=Kind.REMINDER
    ).values_list("appointment_id", "created_at", "hours_before"):
        if hours_before is not None and created_at >= booked_at[appointment_id]:
            sent.setdefault(appointment_id, set()).add(hours_before)
    queued: list[AppointmentMessage] = []
    for appointment in appointments:
        due = reminder_due(
            starts_at=appointment.starts_at, booked_at=appointment.updated_at,
            hours_before=hours, now=now,
            already_sent=sent.get(appointment.pk, set()),
        )  # fmt: skip
        if due is None:
            continue
        try:
            with transaction.atomic():
                if appointment.appointment_type.kind in DOSING_KINDS:
                    send_event_questionnaires(
                        patient=appointment.patient, event=Repeat.BEFORE_DOSING,
                        on=timezone.localtime(appointment.starts_at, zone).date(),
                    )  # fmt: skip
                key = f"remind:{appointment.pk}:{due}h:{_moved(appointment)}"
                queued += _queue(appointment, Kind.REMINDER, key, hours_before=due)
        except Exception:
            logger.exception("Reminder for appointment %s failed", appointment.pk)
    return queued


@dataclass(frozen=True)
class Content:
    subject: str
    body: str
    sms: str
    ics: bytes | None


def _host() -> str:
    return urlparse(settings.SITE_URL).hostname or "localhost"


def opt_out_token(patient: Patient) -> str:
    return signing.dumps(str(patient.pk), salt=OPT_OUT_SALT, compress=True)


def patient_for_opt_out(token: str) -> Patient | None:
    try:
        patient_id = signing.loads(token, salt=OPT_OUT_SALT, max_age=OPT_OUT_MAX_AGE)
    except signing.BadSignature:
        return None
    return Patient.objects.filter(pk=patient_id).first()


def render(message: AppointmentMessage) -> Content:
    appointment = message.appointment
    clinic = get_clinic_profile()
    appointments = [appointment]
    if message.kind == Kind.SERIES and appointment.series:
        appointments = list(
            Appointment.objects.filter(series=appointment.series)
            .on_the_schedule()
            .select_related("appointment_type", "clinician")
            .order_by("starts_at")
        )
    questionnaires = []
    if (
        message.kind == Kind.REMINDER
        and appointment.appointment_type.kind in DOSING_KINDS
    ):
        questionnaires = [
            link.instrument_name for link in open_links_for(message.patient)
        ]
    context = {
        "clinic": clinic,
        "patient": message.patient,
        "message": message,
        "appointment": appointment,
        "appointments": appointments,
        "questionnaires": questionnaires,
        "preparations": list(
            {
                a.appointment_type.name: a.appointment_type.preparation
                for a in appointments
                if a.appointment_type.preparation
            }.items()
        ),
        "portal_url": settings.SITE_URL + reverse("portal:appointments"),
        "opt_out_url": settings.SITE_URL
        + reverse("scheduling:opt_out", args=[opt_out_token(message.patient)]),
    }
    template = f"scheduling/email/{message.kind}"
    subject = " ".join(render_text(f"{template}_subject.txt", context).split())
    body = render_text(f"{template}_body.txt", context)
    sms = " ".join(render_text(f"{template}_sms.txt", context).split())
    ics = None
    if message.kind != Kind.REMINDER:
        ics = patient_ics(
            appointments, clinic=clinic, host=_host(), now=timezone.now(),
            sequence=_sequence(appointment),
        )  # fmt: skip
    return Content(subject=subject, body=body, sms=sms, ics=ics)


def _sequence(appointment: Appointment) -> int:
    """iCalendar SEQUENCE: how many times the event was changed or cancelled."""
    return (
        AppointmentMessage.objects.filter(
            appointment=appointment, kind__in=[Kind.CHANGE, Kind.CANCELLATION]
        )
        .values("key")
        .distinct()
        .count()
    )


def messages_about(appointment: Appointment) -> list[AppointmentMessage]:
    """This appointment's messages and its series' confirmation, newest first."""
    about = Q(appointment=appointment)
    if appointment.series:
        about |= Q(kind=Kind.SERIES, appointment__series=appointment.series)
    return list(AppointmentMessage.objects.filter(about).order_by("-created_at")[:20])


def _why_not_now(message: AppointmentMessage, now: datetime) -> str:
    """A reason to skip a queued message that no longer applies, or ""."""
    appointment = message.appointment
    channel_on = {
        Channel.EMAIL: preference_for(message.patient).by_email,
        Channel.SMS: preference_for(message.patient).by_sms,
    }[Channel(message.channel)]
    if not channel_on:
        return f"The patient turned off {message.get_channel_display().lower()}s."
    if message.kind == Kind.CANCELLATION:
        return ""
    if message.kind == Kind.SERIES:
        live = Appointment.objects.filter(series=appointment.series).on_the_schedule()
        return "" if live.exists() else "Every appointment of the series is cancelled."
    if appointment.status not in LIVE:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if (
        appointment.starts_at != message.for_starts_at
        or appointment.updated_at > message.created_at
    ):
        return "The appointment was moved; the new time has its own message."
    if message.kind == Kind.REMINDER and now >= appointment.starts_at:
        return "The appointment had started."
    return ""


def _send(message: AppointmentMessage, content: Content) -> None:
    if message.channel == Channel.SMS:
        send_sms(message.sent_to, content.sms)
        return
    email = EmailMessage(
        content.subject, content.body, clinic_sender(), [message.sent_to],
        headers={"Message-ID": make_msgid(idstring=message.pk.hex, domain=_host())},
    )  # fmt: skip
    if content.ics is not None:
        email.attach("appointment.ics", content.ics, "text/calendar")
    email.send()


def deliver(message_id: uuid.UUID | str, *, now: datetime | None = None) -> bool:
    """Send one queued message if nobody else has. Returns True if it went out.

    Must run outside a transaction: the claim commits before the message leaves, so
    a crash after sending leaves it claimed (then UNKNOWN), never sent again."""
    now = now or timezone.now()
    claimed = AppointmentMessage.objects.filter(
        pk=message_id, status__in=[Status.PENDING, Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)  # fmt: skip
    if not claimed:
        return False
    message = AppointmentMessage.objects.select_related(
        "appointment__appointment_type", "appointment__clinician",
        "patient__contact_preference",
    ).get(pk=message_id)  # fmt: skip
    skip = _why_not_now(message, now)
    if skip:
        _finish(message, Status.SKIPPED, skip)
        return False
    try:
        with timezone.override(clinic_zone()):
            content = render(message)
    except Exception as exc:
        logger.exception("Could not prepare appointment message %s", message.pk)
        _finish(message, Status.FAILED, f"Could not prepare the message: {exc}")
        return False
    try:
        _send(message, content)
    except (OSError, SmsError) as exc:
        logger.warning("Appointment message %s not accepted: %s", message.pk, exc)
        _finish(message, Status.FAILED, str(exc))
        return False
    AppointmentMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), detail=""
    )
    return True


def _finish(message: AppointmentMessage, status: str, detail: str) -> None:
    """Leave SENDING for `status`, unless the sweep already marked it UNKNOWN (a
    send that outlived STALE_TASK_AFTER must not become retryable again)."""
    changed = AppointmentMessage.objects.filter(
        pk=message.pk, status=Status.SENDING
    ).update(status=status, detail=detail[:300])
    if not changed or status == Status.SKIPPED:
        return
    record_event(
        request=None,
        action=Action.UPDATE,
        patient=message.patient,
        information=Information.DEMOGRAPHICS,
        object_type="appointment_message",
        object_id=message.pk,
        summary=f"{message.get_kind_display()} by "
        f"{message.get_channel_display().lower()} not sent: {detail}",
    )


def deliver_many(ids: Iterable[uuid.UUID | str]) -> int:
    sent = 0
    for message_id in ids:
        try:
            sent += deliver(message_id)
        except Exception:
            logger.exception("Delivering appointment message %s failed", message_id)
    return sent


def deliver_waiting(*, now: datetime | None = None) -> int:
    """The clock's sweep: send what the on-commit task did not (lost or failed),
    and mark messages a killed worker left half-sent as UNKNOWN."""
    now = now or timezone.now()
    stuck = list(
        AppointmentMessage.objects.filter(
            status=Status.SENDING, claimed_at__lt=now - settings.STALE_TASK_AFTER
        ).select_related("patient")
    )
    for message in stuck:
        _finish(
            message, Status.UNKNOWN,
            "The worker stopped while sending; not resent, so it cannot arrive "
            "twice. Send it again from the appointment if needed.",
        )  # fmt: skip
    waiting = AppointmentMessage.objects.filter(
        status=Status.PENDING, created_at__lt=now - PICK_UP_AFTER
    ).values_list("pk", flat=True)
    retry = AppointmentMessage.objects.filter(
        status=Status.FAILED, attempts__lt=MAX_ATTEMPTS,
        claimed_at__lt=now - RETRY_AFTER,
    ).values_list("pk", flat=True)  # fmt: skip
    return deliver_many([*waiting, *retry])


def appointment_messages_job() -> int:
    """The clock's job: queue and send due reminders, then send anything waiting.
    A failure in the reminders never holds back confirmations and cancellations."""
    sent = 0
    try:
        sent += deliver_many(m.pk for m in queue_due_reminders())
    except Exception:
        logger.exception("Queueing appointment reminders failed")
    return sent + deliver_waiting()


def set_contact_preference(
    *,
    request: HttpRequest | None,
    patient: Patient,
    by_email: bool,
    by_sms: bool,
    by: User | None,
    seen: str | None,
) -> ContactPreference:
    """Save the choice made on a contact preference form; raise ChangedMeanwhileError
    when the saved choice changed after the form was opened (`seen` is the form's
    fingerprint of it): a stale staff form must not turn messages back on after
    the patient turned them off."""
    return _save_contact_preference(
        request=request, patient=patient, by_email=by_email, by_sms=by_sms, by=by,
        seen=seen, checked=True,
    )  # fmt: skip


def stop_appointment_messages(
    *, request: HttpRequest | None, patient: Patient
) -> ContactPreference:
    """The patient's one-click opt-out (the link in every message): both channels
    off, whatever was saved before; withdrawing consent is never refused."""
    return _save_contact_preference(
        request=request, patient=patient, by_email=False, by_sms=False, by=None,
        seen=None, checked=False,
    )  # fmt: skip


def _save_contact_preference(
    *, request: HttpRequest | None, patient: Patient, by_email: bool, by_sms: bool,
    by: User | None, seen: str | None, checked: bool,
) -> ContactPreference:  # fmt: skip
    with transaction.atomic():
        # Staff, the patient and the opt-out link can save at once, and there may
        # be no preference row to lock yet: the patient row is locked instead, so
        # the check sees the last saved choice and no save is lost to another.
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        saved = ContactPreference.objects.filter(patient=patient).first()
        current = saved or ContactPreference(patient=patient)  # the default if none
        turns_on = (by_email and not current.by_email) or (
            by_sms and not current.by_sms
        )
        if checked and turns_on:  # turning messages off is never refused
            check_unchanged(
                seen, contact_preference_values(saved),
                what="the appointment message preference",
                changed_by=_preference_changed_by(patient, saved),
            )  # fmt: skip
        preference = current
        before = (preference.by_email, preference.by_sms)
        preference.by_email, preference.by_sms = by_email, by_sms
        preference.updated_at = timezone.now()
        preference.updated_by = by
        preference.save()
        if before != (by_email, by_sms):
            chosen = [
                name
                for name, on in (("email", by_email), ("text message", by_sms))
                if on
            ]
            record_event(
                request=request,
                actor=by,
                action=Action.UPDATE,
                patient=patient,
                information=Information.DEMOGRAPHICS,
                object_type="contact_preference",
                object_id=patient.pk,
                summary="Appointment messages: "
                + (" and ".join(chosen) if chosen else "turned off"),
            )
    return preference


def _preference_changed_by(patient: Patient, saved: ContactPreference | None) -> str:
    """Who saved the preference last: the audit log's name, else the row's own
    (a preference set when booking from a consultation request is not audited)."""
    name = last_changed_by("contact_preference", patient.pk)
    if not name and saved is not None and saved.updated_by is not None:
        return saved.updated_by.display_name
    return name
