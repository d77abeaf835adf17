"""Appointment messages: confirmation with an .ics, reminders at the clinic's hours
(time travel), changes and cancellations, contact preferences and opt-out, and no
message sent twice however the worker dies."""

import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.lib import sms
from kapcare.lib.sms import SmsError
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireLink
from kapcare.patients.models import Patient
from kapcare.scheduling import notices, services
from kapcare.scheduling.models import (
    AppointmentMessage,
    AppointmentType,
    ContactPreference,
    Resource,
)
from kapcare.website.models import get_clinic_profile
from tests.conftest import ClientFor, seen_in
from tests.scheduling.test_booking import at, book, works_weekdays

pytestmark = pytest.mark.django_db
Status = AppointmentMessage.Status


def sweep(after: timedelta = timedelta(minutes=1)) -> int:
    """What the clock does: queue due reminders, send what waits."""
    notices.queue_due_reminders()
    return notices.deliver_waiting(now=timezone.now() + after)


def sms_on(patient: Patient, phone: str = "+14165550123") -> None:
    Patient.objects.filter(pk=patient.pk).update(phone=phone)
    ContactPreference.objects.create(patient=patient, by_email=True, by_sms=True)
    patient.refresh_from_db()


@pytest.fixture
def rn(nurse: User) -> User:
    return works_weekdays(nurse)


@pytest.fixture
def chair() -> Resource:
    return Resource.objects.create(name="Chair 1", kind="chair")


def test_a_booking_sends_one_confirmation_with_an_ics_in_toronto_time(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    assert sweep() == 1
    assert sweep() == 0
    [email] = mail.outbox
    assert email.to == [patient_a.email]
    assert email.subject == "Kapcare Clinic: your dosing session on Monday, December 7"
    assert "Monday, December 7, 2026, 9:00 a.m." in email.body
    assert "no driving" in email.body  # the type's preparation instructions
    assert "9-8-8" in email.body
    assert email.extra_headers["Message-ID"].startswith("<")
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == ("appointment.ics", "text/calendar")
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == at(9)
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert event.decoded("DTEND") == at(12)
    assert str(event["UID"]).startswith(str(appointment.pk))
    assert str(event["STATUS"]) == "CONFIRMED"
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Toronto"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert patient_a.legal_family_name not in content
    message = AppointmentMessage.objects.get()
    assert (message.kind, message.status, message.attempts) == (
        "confirmation", Status.SENT, 1,
    )  # fmt: skip
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="appointment_message", action="create"
    ).exists()


def test_text_messages_go_where_the_patient_asked(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    sms_on(patient_a)
    book(patient_a, rn, at(9), resource=chair)
    assert sweep() == 2
    [text] = sms.outbox
    assert text.to == "+14165550123"
    assert "Dosing session booked for Mon Dec 7, 9:00 a.m." in text.body
    assert len(mail.outbox) == 1


def test_reminders_go_at_48_and_24_hours_with_time_travel(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    sweep()
    mail.outbox.clear()
    with time_machine.travel(at(9) - timedelta(hours=48, minutes=1), tick=False):
        assert sweep() == 0
    with time_machine.travel(at(9) - timedelta(hours=47, minutes=59), tick=False):
        assert sweep() == 1
        assert sweep() == 0
    with time_machine.travel(at(9) - timedelta(hours=30), tick=False):
        assert sweep() == 0
    with time_machine.travel(at(9) - timedelta(hours=23), tick=False):
        assert sweep() == 1
    with time_machine.travel(at(9) - timedelta(hours=1), tick=False):
        assert sweep() == 0
    assert [m.subject for m in mail.outbox] == [
        "Reminder: dosing session Monday, December 7, 9:00 a.m.",
    ] * 2
    assert all(not m.attachments for m in mail.outbox)
    assert "Arrange a ride home" in mail.outbox[1].body
    hours = AppointmentMessage.objects.filter(kind="reminder").order_by("hours_before")
    assert [m.hours_before for m in hours] == [24, 48]


def test_after_an_outage_only_the_nearest_reminder_goes(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=10), tick=False):
        sweep()
        sweep()
    reminders = AppointmentMessage.objects.filter(kind="reminder")
    assert list(reminders.values_list("hours_before", flat=True)) == [24]


def test_a_booking_inside_the_window_gets_only_the_reminders_still_ahead(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    with time_machine.travel(at(9) - timedelta(hours=30), tick=False):
        book(patient_a, rn, at(9), resource=chair)
        sweep()
    with time_machine.travel(at(9) - timedelta(hours=20), tick=False):
        sweep()
    kinds = AppointmentMessage.objects.values_list("kind", "hours_before")
    assert sorted(kinds, key=str) == [("confirmation", None), ("reminder", 24)]


def test_the_clinic_chooses_the_reminder_hours(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    clinic = get_clinic_profile()
    clinic.appointment_reminder_hours = "72"
    clinic.save()
    book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=71), tick=False):
        sweep()
    with time_machine.travel(at(9) - timedelta(hours=23), tick=False):
        sweep()
    assert list(
        AppointmentMessage.objects.filter(kind="reminder").values_list(
            "hours_before", flat=True
        )
    ) == [72]
    clinic.appointment_reminder_hours = ""
    clinic.save()
    assert notices.queue_due_reminders() == []


def test_reminder_settings_are_checked(
    client_for: ClientFor, clinic_admin: User
) -> None:
    from kapcare.website.forms import ClinicProfileForm

    form = ClinicProfileForm(
        {"appointment_reminder_hours": "48, soon"}, instance=get_clinic_profile()
    )
    assert not form.is_valid()
    assert (
        "“soon” is not a whole number of hours."
        in form.errors["appointment_reminder_hours"]
    )


def test_a_moved_appointment_tells_the_new_time_and_drops_old_reminders(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    sweep()
    with time_machine.travel(at(9) - timedelta(hours=47), tick=False):
        notices.queue_due_reminders()  # queued, not yet sent
        services.move_appointment(
            request=None, appointment=appointment, starts_at=at(9, day=2), by=rn
        )
        notices.deliver_waiting(now=timezone.now() + timedelta(minutes=1))
    stale = AppointmentMessage.objects.get(kind="reminder")
    assert stale.status == Status.SKIPPED
    assert "moved" in stale.detail
    change = AppointmentMessage.objects.get(kind="change")
    assert change.status == Status.SENT
    email = next(m for m in mail.outbox if "new time" in m.subject)
    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == at(9, day=2)
    assert event["SEQUENCE"] == 1
    with time_machine.travel(at(9, day=2) - timedelta(hours=24), tick=False):
        sweep()
    assert (
        AppointmentMessage.objects.filter(
            kind="reminder", status=Status.SENT, for_starts_at=at(9, day=2)
        ).count()
        == 1
    )


def test_a_cancellation_is_sent_and_its_reminders_are_not(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    sweep()
    services.cancel_appointment(
        request=None, appointment=appointment, reason="Patient unwell", by=rn
    )
    sweep()
    with time_machine.travel(at(9) - timedelta(hours=24), tick=False):
        assert sweep() == 0
    email = mail.outbox[-1]
    assert "cancelled" in email.subject
    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert not AppointmentMessage.objects.filter(kind="reminder").exists()


def test_staff_may_book_without_telling_the_patient(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    services.book_appointment(
        request=None, patient=patient_a,
        appointment_type=AppointmentType.objects.get(seed_key="dosing"),
        clinician=rn, resource=chair, starts_at=at(9), notify=False, by=rn,
    )  # fmt: skip
    assert not AppointmentMessage.objects.exists()


def test_an_opted_out_patient_gets_nothing(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    ContactPreference.objects.create(patient=patient_a, by_email=False, by_sms=False)
    appointment = book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=24), tick=False):
        sweep()
    assert not AppointmentMessage.objects.exists()
    assert mail.outbox == [] and sms.outbox == []
    assert notices.reach_problem(appointment.patient) == (
        "The patient has turned off appointment messages."
    )


def test_opting_out_after_a_message_was_queued_stops_it(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    notices.stop_appointment_messages(request=None, patient=patient_a)
    sweep()
    message = AppointmentMessage.objects.get()
    assert message.status == Status.SKIPPED
    assert mail.outbox == []


def test_the_opt_out_link_asks_before_it_stops_messages(
    client: Client, patient_a: Patient
) -> None:
    url = reverse("scheduling:opt_out", args=[notices.opt_out_token(patient_a)])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop appointment messages" in page.content
    assert not ContactPreference.objects.exists()
    done = client.post(url)
    assert b"you will get no more appointment" in done.content
    assert notices.preference_for(Patient.objects.get(pk=patient_a.pk)).opted_out
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="contact_preference",
        summary="Appointment messages: turned off",
    ).exists()  # fmt: skip
    assert client.get(url + "x").status_code == 404
    forged = reverse("scheduling:opt_out", args=[f"{patient_a.pk}:abc"])
    assert client.post(forged).status_code == 404


def test_a_refused_message_is_retried_then_given_up(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    sms_on(patient_a)
    ContactPreference.objects.filter(patient=patient_a).update(by_email=False)
    book(patient_a, rn, at(9), resource=chair)
    with mock.patch.object(
        sms.LocmemBackend, "send", side_effect=SmsError("Twilio: invalid number")
    ):
        sweep()
        message = AppointmentMessage.objects.get()
        assert (message.status, message.attempts) == (Status.FAILED, 1)
        assert message.detail == "Twilio: invalid number"
        sweep(after=timedelta(minutes=2))  # too soon to retry
        assert AppointmentMessage.objects.get().attempts == 1
        for minutes in (6, 12, 18, 24):
            sweep(after=timedelta(minutes=minutes))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, notices.MAX_ATTEMPTS)
    assert (
        AuditEvent.objects.filter(
            object_type="appointment_message", summary__contains="not sent"
        ).count()
        == notices.MAX_ATTEMPTS
    )


def test_a_worker_killed_mid_batch_sends_nothing_twice(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    """Killed after handing message 2 to the mail server but before marking it
    sent: message 1 stays sent, 2 becomes UNKNOWN (never resent), 3 goes later."""
    for patient, hour in ((patient_a, 9), (patient_b, 13)):
        book(patient, rn, at(hour), resource=chair)
    book(patient_a, rn, at(9, day=1), resource=chair)
    ids = list(
        AppointmentMessage.objects.order_by("created_at").values_list("pk", flat=True)
    )
    real_send = notices._send
    calls = []

    def send_then_die(message: AppointmentMessage, content: notices.Content) -> None:
        calls.append(message.pk)
        real_send(message, content)
        if len(calls) == 2:
            raise SystemExit("worker killed")

    with (
        mock.patch.object(notices, "_send", side_effect=send_then_die),
        pytest.raises(SystemExit),
    ):
        notices.deliver_many(ids)
    assert len(mail.outbox) == 2
    statuses = dict(AppointmentMessage.objects.values_list("pk", "status"))
    assert [statuses[i] for i in ids] == [Status.SENT, Status.SENDING, Status.PENDING]

    notices.deliver_waiting(now=timezone.now() + timedelta(minutes=1))
    notices.deliver_waiting(now=timezone.now() + timedelta(minutes=30))
    notices.deliver_waiting(now=timezone.now() + timedelta(minutes=60))
    assert len(mail.outbox) == 3
    assert [m.to for m in mail.outbox].count([patient_a.email]) == 2
    statuses = dict(AppointmentMessage.objects.values_list("pk", "status"))
    assert [statuses[i] for i in ids] == [Status.SENT, Status.UNKNOWN, Status.SENT]
    unknown = AppointmentMessage.objects.get(pk=ids[1])
    assert "not resent" in unknown.detail


def test_two_workers_never_send_the_same_message(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    message = AppointmentMessage.objects.get()
    assert notices.deliver(message.pk) is True
    assert notices.deliver(message.pk) is False
    assert notices.deliver_many([message.pk, message.pk]) == 0
    assert len(mail.outbox) == 1


def test_questionnaires_due_before_dosing_go_with_the_reminder(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    QuestionnaireAssignment.objects.create(
        patient=patient_a, instrument="phq9", repeat="before_dosing",
        starts_on=timezone.localdate(), assigned_by=rn,
    )  # fmt: skip
    book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=24), tick=False):
        sweep()
    link = QuestionnaireLink.objects.get(patient=patient_a)
    assert link.due_on == at(9).date()
    reminder = next(m for m in mail.outbox if m.subject.startswith("Reminder"))
    assert "Before this session, please fill in: PHQ-9" in reminder.body
    with time_machine.travel(at(9) - timedelta(hours=23), tick=False):
        sweep()
    assert QuestionnaireLink.objects.filter(patient=patient_a).count() == 1


def test_a_series_gets_one_confirmation_listing_every_appointment(
    rn: User, chair: Resource, patient_a: Patient, therapist: User
) -> None:
    works_weekdays(therapist)
    proposal = services.propose_series(
        patient=patient_a, first_day=at(9).date(), sessions=3, per_week=3,
        earliest=at(9).time(), nurse=rn, therapist=therapist,
    )  # fmt: skip
    booked = services.book_series(
        request=None, patient=patient_a, proposal=proposal, by=rn
    )
    assert len(booked) == 6
    sweep()
    [email] = mail.outbox
    assert "6 appointments" in email.subject
    assert email.body.count("Dosing session") == 3
    assert email.body.count("Before each dosing session:") == 1
    assert [m.kind for m in notices.messages_about(booked[-1])] == ["series"]
    events = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")
    assert sorted(e.decoded("DTSTART") for e in events) == sorted(
        a.starts_at for a in booked
    )


def test_the_confirmation_can_be_sent_again_from_the_appointment(
    client_for: ClientFor, front_desk: User, rn: User, chair: Resource,
    patient_a: Patient,
) -> None:  # fmt: skip
    appointment = book(patient_a, rn, at(9), resource=chair)
    client = client_for(front_desk)
    page = client.get(reverse("scheduling:appointment_detail", args=[appointment.pk]))
    assert b"Messages to the patient" in page.content
    assert b"Waiting to be sent" in page.content
    url = reverse("scheduling:appointment_change", args=[appointment.pk, "resend"])
    client.post(url)
    assert AppointmentMessage.objects.filter(kind="confirmation").count() == 2
    ContactPreference.objects.create(patient=patient_a, by_email=False)
    response = client.post(url, follow=True)
    assert b"turned off appointment messages" in response.content
    assert AppointmentMessage.objects.count() == 2


def test_contact_preferences_for_staff_and_the_patient(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    staff = client_for(front_desk)
    url = reverse("scheduling:contact_preference", args=[patient_a.pk])
    page = staff.get(url)
    assert page.status_code == 200
    response = staff.post(
        url, {"by_email": "on", "by_sms": "on", "seen": seen_in(page.content)},
        follow=True,
    )  # fmt: skip
    assert b"the chart has no" not in response.content
    assert b"Saved." in response.content
    preference = ContactPreference.objects.get(patient=patient_a)
    assert (preference.by_email, preference.by_sms, preference.updated_by) == (
        True, True, front_desk,
    )  # fmt: skip
    portal = client_for(patient_user)
    own = reverse("portal:contact_preference")
    assert (
        portal.get(reverse("portal:appointments")).content.count(
            b"Reminders: email and text"
        )
        == 1
    )
    portal.post(own, {"by_sms": "on", "seen": seen_in(portal.get(own).content)})
    preference.refresh_from_db()
    assert (preference.by_email, preference.by_sms) == (False, True)
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="contact_preference", actor=patient_user
    ).exists()
    page = portal.get(own)
    assert b"No appointment messages: the chart has no mobile number." in page.content


def test_the_clock_job_runs_reminders_and_delivery(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    from kapcare.clock.jobs import run_clinic_jobs

    book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=24), tick=False):
        AppointmentMessage.objects.update(
            created_at=timezone.now() - timedelta(hours=1)
        )
        figures = run_clinic_jobs()
    assert figures["appointment_messages_sent"] == 2
    assert len(mail.outbox) == 2


def test_a_message_for_an_appointment_that_started_is_not_sent(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=24), tick=False):
        notices.queue_due_reminders()
    reminder = AppointmentMessage.objects.get(kind="reminder")
    assert notices.deliver(reminder.pk, now=at(9) + timedelta(minutes=5)) is False
    reminder.refresh_from_db()
    assert reminder.status == Status.SKIPPED


@pytest.mark.django_db(transaction=True)
def test_the_delivery_task_rerun_after_a_killed_worker_sends_nothing_twice(
    nurse: User, patient_a: Patient
) -> None:
    """The worker sent the confirmation, then died before recording the task as
    done; the task is re-queued as stale and runs again: still one email."""
    from django.core.management import call_command
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    works_weekdays(nurse)
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    book(patient_a, nurse, at(9), resource=chair)
    task = DBTaskResult.objects.get(task_path__endswith="deliver_appointment_messages")
    assert (
        notices.deliver_many(task.args_kwargs["args"][0]) == 1
    )  # the dead worker's send
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=30),
        worker_ids=["dead-worker"],
    )
    call_command("clinic_worker", "--batch", "--interval", "0")
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.return_value == 0
    assert len(mail.outbox) == 1
    assert AppointmentMessage.objects.get().status == Status.SENT


def test_moving_back_and_forth_tells_the_patient_every_time(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    with time_machine.travel(at(9) - timedelta(hours=47), tick=True):
        notices.queue_due_reminders()
        for starts_at in (at(9, day=2), at(9), at(9, day=2), at(9)):
            services.move_appointment(
                request=None, appointment=appointment, starts_at=starts_at, by=rn
            )
        assert AppointmentMessage.objects.filter(kind="change").count() == 4
        sweep()
    assert (
        AppointmentMessage.objects.get(
            kind="reminder", status=Status.SKIPPED
        ).hours_before
        == 48
    )
    with time_machine.travel(at(9) - timedelta(hours=23), tick=False):
        sweep()
    assert (
        AppointmentMessage.objects.filter(
            kind="reminder", status=Status.SENT, hours_before=24
        ).count()
        == 1
    )


def test_times_are_written_in_the_clinics_time_zone(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    clinic = get_clinic_profile()
    clinic.time_zone = "America/Vancouver"
    clinic.save()
    book(patient_a, rn, at(9), resource=chair)
    sweep()
    [email] = mail.outbox
    assert "Monday, December 7, 2026, 6:00 a.m." in email.body
    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "America/Vancouver"
    assert event.decoded("DTSTART") == at(9)


def test_a_send_that_outlives_the_sweep_stays_unknown(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    message = AppointmentMessage.objects.get()

    def slow_then_refused(*args: object) -> None:
        notices.deliver_waiting(now=timezone.now() + timedelta(hours=1))
        raise OSError("SMTP timed out")

    with mock.patch.object(notices, "_send", side_effect=slow_then_refused):
        assert notices.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    sweep(after=timedelta(hours=2))
    assert mail.outbox == []


def test_a_double_click_on_send_again_queues_one(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    first = notices.resend_confirmation(appointment, request=None)  # type: ignore[arg-type]
    second = notices.resend_confirmation(appointment, request=None)  # type: ignore[arg-type]
    assert [m.pk for m in first] == [m.pk for m in second]
    assert AppointmentMessage.objects.filter(key__startswith="resend:").count() == 1


def test_a_broken_reminder_setting_does_not_hold_back_confirmations(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    get_clinic_profile().__class__.objects.update(appointment_reminder_hours="soon")
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert notices.appointment_messages_job() == 1
    assert len(mail.outbox) == 1


def test_a_series_cancelled_before_its_confirmation_went_sends_nothing(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    proposal = services.propose_series(
        patient=patient_a, first_day=at(9).date(), sessions=2, per_week=3,
        earliest=at(9).time(), nurse=rn, therapist=None,
    )  # fmt: skip
    booked = services.book_series(
        request=None, patient=patient_a, proposal=proposal, by=rn
    )
    for appointment in booked:
        services.cancel_appointment(
            request=None, appointment=appointment, reason="Changed plans",
            notify=False, by=rn,
        )  # fmt: skip
    sweep()
    assert mail.outbox == []
    assert AppointmentMessage.objects.get().status == Status.SKIPPED


def test_a_stale_staff_form_cannot_turn_messages_back_on_after_an_opt_out(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    staff, portal = client_for(front_desk), client_for(patient_user)
    url, own = (
        reverse("scheduling:contact_preference", args=[patient_a.pk]),
        reverse("portal:contact_preference"),
    )
    seen_staff = seen_in(staff.get(url).content)
    opted_out = portal.post(own, {"seen": seen_in(portal.get(own).content)})
    assert opted_out.status_code == 302

    stale = staff.post(url, {"by_email": "on", "by_sms": "on", "seen": seen_staff})

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(patient_user.display_name)}" in body
    assert body.count("Not saved: this form had yes.") == 2
    assert not re.search(r'<input type="checkbox" name="by_sms"[^>]* checked>', body)
    assert notices.preference_for(Patient.objects.get(pk=patient_a.pk)).opted_out
    # saving the page as shown keeps the patient's opt-out
    again = staff.post(url, stale.context["form"].data.dict())
    assert again.status_code == 302
    preference = ContactPreference.objects.get(patient=patient_a)
    assert (preference.by_email, preference.by_sms) == (False, False)


def test_a_stale_portal_form_is_refused_after_staff_first_saved_a_choice(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    staff, portal = client_for(front_desk), client_for(patient_user)
    url, own = (
        reverse("scheduling:contact_preference", args=[patient_a.pk]),
        reverse("portal:contact_preference"),
    )
    seen_patient = seen_in(portal.get(own).content)
    assert not ContactPreference.objects.filter(patient=patient_a).exists()
    texts = {"by_sms": "on", "seen": seen_in(staff.get(url).content)}
    assert staff.post(url, texts).status_code == 302

    stale = portal.post(own, {"by_email": "on", "seen": seen_patient})

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(front_desk.display_name)}" in body
    preference = ContactPreference.objects.get(patient=patient_a)
    assert (preference.by_email, preference.by_sms) == (False, True)
    again = portal.post(own, {"by_email": "on", "seen": seen_in(stale.content)})
    assert again.status_code == 302
    preference.refresh_from_db()
    assert (preference.by_email, preference.by_sms) == (True, False)


def test_a_contact_preference_form_without_what_it_saw_changes_nothing(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    for client, url in (
        (
            client_for(front_desk),
            reverse("scheduling:contact_preference", args=[patient_a.pk]),
        ),
        (client_for(patient_user), reverse("portal:contact_preference")),
    ):
        response = client.post(url, {"by_sms": "on"})
        assert response.status_code == 200
        assert b"does not say what it was opened with" in response.content
    assert not ContactPreference.objects.filter(patient=patient_a).exists()


def test_turning_messages_off_is_never_refused_as_stale(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    """The patient phones to stop all messages; the front desk's page is stale
    (the patient had just turned texts on): stopping everything still saves."""
    staff, portal = client_for(front_desk), client_for(patient_user)
    url, own = (
        reverse("scheduling:contact_preference", args=[patient_a.pk]),
        reverse("portal:contact_preference"),
    )
    seen_staff = seen_in(staff.get(url).content)
    both = {"by_email": "on", "by_sms": "on", "seen": seen_in(portal.get(own).content)}
    assert portal.post(own, both).status_code == 302
    assert staff.post(url, {"seen": seen_staff}).status_code == 302
    preference = ContactPreference.objects.get(patient=patient_a)
    assert (preference.by_email, preference.by_sms) == (False, False)
