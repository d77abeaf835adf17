"""The schedule pages: access, audit, constant queries, conflicts explained."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    Resource,
    TimeOff,
    WorkingHours,
)
from tests.conftest import ClientFor, make_staff, seen_in
from tests.factories import PatientFactory
from tests.page_forms import form_as_shown
from tests.scheduling.test_booking import MONDAY, at, book, works_weekdays

pytestmark = pytest.mark.django_db


@pytest.fixture
def rn(db: None) -> User:
    return works_weekdays(make_staff(Role.NURSE))


def test_the_day_by_chair_lists_each_chair_and_audits_who_is_shown(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    chairs = [Resource.objects.create(name=f"Chair {n}", kind="chair") for n in (1, 2)]
    book(patient_a, rn, at(9), resource=chairs[0])
    client = client_for(front_desk)
    url = reverse("scheduling:day_view")
    body = client.get(url, {"day": MONDAY.isoformat()}).content.decode()
    assert "Chair 1" in body and "Chair 2" in body and "Free all day." in body
    assert patient_a.mrn in body
    assert AuditEvent.objects.filter(
        actor=front_desk, patient=patient_a, action="search"
    ).exists()
    for n in range(19):
        other = PatientFactory.create()
        nurse = works_weekdays(make_staff(Role.NURSE))
        chair = Resource.objects.create(name=f"Chair x{n}", kind="chair")
        book(other, nurse, at(9), resource=chair)
    # Session, user, OTP device, clinic profile, permissions (2), appointments with
    # their people and chairs, the chairs, the audit write for the listed patients
    # (chain head, bulk insert, head update, savepoints): the same for 1 or 20.
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        response = client.get(url, {"day": MONDAY.isoformat()})
    assert response.content.decode().count("agenda-item") == 20


def test_the_day_by_clinician_shows_who_works(
    client_for: ClientFor, front_desk: User, rn: User
) -> None:
    body = (
        client_for(front_desk)
        .get(
            reverse("scheduling:day_view"),
            {"day": MONDAY.isoformat(), "by": "clinician"},
        )
        .content.decode()
    )
    assert rn.display_name in body


def test_a_conflicting_booking_is_explained_and_keeps_the_entries(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient,
    patient_b: Patient,
) -> None:  # fmt: skip
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    book(patient_a, rn, at(9), resource=chair)
    client = client_for(front_desk)
    url = reverse("scheduling:appointment_create", args=[patient_b.pk])
    data = {
        "appointment_type": AppointmentType.objects.get(seed_key="dosing").pk,
        "clinician": rn.pk, "resource": chair.pk, "on": MONDAY.isoformat(),
        "at": "10:00",
    }  # fmt: skip
    refused = client.post(url, data)
    assert refused.status_code == 409
    body = refused.content.decode()
    assert "Chair 1 is booked 2026-12-07 09:00–12:00." in body
    assert 'value="10:00"' in body
    assert Appointment.objects.count() == 1
    booked = client.post(url, {**data, "at": "12:00"})
    assert booked.status_code == 302
    assert Appointment.objects.filter(patient=patient_b).count() == 1


def test_the_front_desk_cancels_with_a_reason_and_moves(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient
) -> None:
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    appointment = book(patient_a, rn, at(9), resource=chair)
    client = client_for(front_desk)

    def change(name: str, **data: str) -> None:
        client.post(
            reverse("scheduling:appointment_change", args=[appointment.pk, name]), data
        )

    change("move", on=MONDAY.isoformat(), at="13:00")
    appointment.refresh_from_db()
    assert appointment.starts_at == at(13)
    change("cancel", reason="")
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    change("cancel", reason="Patient has COVID")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (
        "cancelled", "Patient has COVID",
    )  # fmt: skip


def test_the_chart_lists_the_patients_appointments(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient
) -> None:
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    book(patient_a, rn, at(9) + timedelta(days=1), resource=chair)
    body = (
        client_for(front_desk)
        .get(reverse("scheduling:patient_appointments", args=[patient_a.pk]))
        .content.decode()
    )
    assert "Dosing session" in body and "Chair 1" in body


def test_the_clinic_admin_sets_working_hours_time_off_and_chairs(
    client_for: ClientFor, clinic_admin: User, patient_a: Patient
) -> None:
    nurse = make_staff(Role.NURSE)
    client = client_for(clinic_admin)
    url = reverse("scheduling:staff_hours_edit", args=[nurse.pk])
    form = {
        "hours-TOTAL_FORMS": "2", "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0", "hours-MAX_NUM_FORMS": "1000",
        "hours-0-weekday": "0", "hours-0-starts": "08:00", "hours-0-ends": "16:00",
        "hours-1-weekday": "", "hours-1-starts": "", "hours-1-ends": "",
        "save_hours": "1", "hours-seen": seen_in(client.get(url).content, "hours-seen"),
    }  # fmt: skip
    bad = client.post(url, {**form, "hours-0-ends": "07:00"})
    assert b"The end is before the start." in bad.content
    assert client.post(url, form).status_code == 302
    assert WorkingHours.objects.get(staff=nurse).ends.hour == 16
    client.post(url, {
        "away-starts_at": "2026-12-14T00:00", "away-ends_at": "2026-12-18T23:00",
        "away-reason": "Conference", "add_time_off": "1",
    })  # fmt: skip
    assert TimeOff.objects.get(staff=nurse).reason == "Conference"
    client.post(reverse("scheduling:staff_hours"), {"name": "Chair 3", "kind": "chair"})
    assert Resource.objects.filter(name="Chair 3").exists()
    assert AuditEvent.objects.filter(
        information="clinic", summary__startswith="Set "
    ).exists()
    chair = Resource.objects.get(name="Chair 3")
    with pytest.raises(services.BookingError, match="works 08:00–16:00 on Mondays"):
        book(patient_a, nurse, at(14), resource=chair)


def test_the_patient_sees_upcoming_appointments_with_preparation(
    client_for: ClientFor, rn: User, patient_a: Patient, patient_b: Patient,
    patient_user: User,
) -> None:  # fmt: skip
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    mine = book(patient_a, rn, at(9), resource=chair)
    book(patient_b, rn, at(13), resource=chair)
    services.cancel_appointment(request=None, appointment=book(
        patient_a, rn, at(9, day=1), resource=chair), reason="moved", by=rn)  # fmt: skip
    body = client_for(patient_user).get(reverse("portal:appointments")).content.decode()
    assert body.count("<section") == 1
    assert "Monday 7 December 2026" in body and "09:00–12:00" in body
    assert "Arrange a ride home" in body
    assert mine.clinician.display_name in body
    assert patient_b.display_name not in body


def test_a_time_that_does_not_exist_is_refused_by_the_form() -> None:
    from kapcare.scheduling.forms import MoveForm

    form = MoveForm({"on": "2027-03-14", "at": "02:30"})
    assert not form.is_valid()
    assert "does not exist" in form.errors["at"][0]


def test_a_too_long_cancel_reason_is_a_message_not_an_error(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient
) -> None:
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    appointment = book(patient_a, rn, at(9), resource=chair)
    response = client_for(front_desk).post(
        reverse("scheduling:appointment_change", args=[appointment.pk, "cancel"]),
        {"reason": "x" * 300}, follow=True,
    )  # fmt: skip
    assert b"up to 200 characters" in response.content
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_bad_time_off_leaves_the_hours_form_alone(
    client_for: ClientFor, clinic_admin: User
) -> None:
    nurse = make_staff(Role.NURSE)
    response = client_for(clinic_admin).post(
        reverse("scheduling:staff_hours_edit", args=[nurse.pk]),
        {"away-starts_at": "2026-12-14T10:00", "away-ends_at": "2026-12-14T09:00",
         "away-reason": "", "add_time_off": "1"},
    )  # fmt: skip
    body = response.content.decode()
    assert "The end is before the start." in body
    assert "ManagementForm" not in body


def test_the_week_view_puts_each_appointment_under_its_day_and_chair(
    client_for: ClientFor, front_desk: User, rn: User, patient_a: Patient,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    book(patient_a, rn, at(9, day=2), resource=chair)
    client = client_for(front_desk)
    url = reverse("scheduling:week_view")
    client.get(url)  # the first request also creates the clinic profile
    # Session, user, OTP device, clinic profile, permissions (2), appointments, chairs,
    # the audit write for the listed patient.
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        body = client.get(
            url, {"day": (MONDAY + timedelta(days=3)).isoformat()}
        ).content.decode()
    assert "Week of 7 December 2026" in body
    row = body[body.index('<th scope="row">Chair 1</th>') :]
    cells = row.split("<td>")[1:8]
    assert patient_a.display_name in cells[2]
    assert patient_a.display_name not in cells[0]


def _hours_form(
    seen: str, *rows: tuple[str, str, str, str], delete: int | None = None
) -> dict[str, str]:
    """The hours formset as posted: saved rows (id, weekday, starts, ends) first,
    then new rows (no id), then one empty row; `delete` ticks a row's Delete."""
    form = {
        "hours-TOTAL_FORMS": str(len(rows) + 1),
        "hours-INITIAL_FORMS": str(sum(1 for row in rows if row[0])),
        "hours-MIN_NUM_FORMS": "0", "hours-MAX_NUM_FORMS": "1000",
        "save_hours": "1", "hours-seen": seen,
    }  # fmt: skip
    for n, (pk, weekday, starts, ends) in enumerate([*rows, ("", "", "", "")]):
        form |= {
            f"hours-{n}-id": pk, f"hours-{n}-weekday": weekday,
            f"hours-{n}-starts": starts, f"hours-{n}-ends": ends,
        }  # fmt: skip
    if delete is not None:
        form[f"hours-{delete}-DELETE"] = "on"
    return form


def test_a_stale_hours_form_is_refused_and_keeps_its_entries(
    client_for: ClientFor, clinic_admin: User
) -> None:
    nurse = make_staff(Role.NURSE)
    monday = WorkingHours.objects.create(
        staff=nurse, weekday=0, starts=time(8), ends=time(16)
    )
    url = reverse("scheduling:staff_hours_edit", args=[nurse.pk])
    first, second = client_for(clinic_admin), client_for(make_staff(Role.CLINIC_ADMIN))
    seen_first = seen_in(first.get(url).content, "hours-seen")
    seen_second = seen_in(second.get(url).content, "hours-seen")
    shorter = _hours_form(seen_first, (str(monday.pk), "0", "08:00", "12:00"))
    assert first.post(url, shorter).status_code == 302

    stale = second.post(url, _hours_form(
        seen_second, (str(monday.pk), "0", "08:00", "16:00"), ("", "1", "09:00", "17:00"),
    ))  # fmt: skip

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(clinic_admin.display_name)}" in body
    assert 'name="hours-1-starts" value="09:00"' in body  # the new block, kept
    assert 'name="hours-0-ends" value="12:00"' in body  # Monday as saved now
    assert "Not saved: this form had 16:00." in body
    assert [(h.weekday, h.ends) for h in WorkingHours.objects.filter(staff=nurse)] == [
        (0, time(12))
    ]
    shown = {**form_as_shown(body, "hours-TOTAL_FORMS"), "save_hours": "1"}
    again = second.post(url, shown)
    assert again.status_code == 302
    assert [
        (h.weekday, h.starts, h.ends) for h in WorkingHours.objects.filter(staff=nurse)
    ] == [(0, time(8), time(12)), (1, time(9), time(17))]


def test_a_stale_hours_form_does_not_bring_back_a_removed_block(
    client_for: ClientFor, clinic_admin: User
) -> None:
    nurse = make_staff(Role.NURSE)
    monday = WorkingHours.objects.create(
        staff=nurse, weekday=0, starts=time(8), ends=time(16)
    )
    url = reverse("scheduling:staff_hours_edit", args=[nurse.pk])
    first, second = client_for(clinic_admin), client_for(make_staff(Role.CLINIC_ADMIN))
    seen_first = seen_in(first.get(url).content, "hours-seen")
    seen_second = seen_in(second.get(url).content, "hours-seen")
    row = (str(monday.pk), "0", "08:00", "16:00")
    assert first.post(url, _hours_form(seen_first, row, delete=0)).status_code == 302

    stale = second.post(url, _hours_form(seen_second, row, ("", "1", "09:00", "17:00")))

    assert stale.status_code == 409
    assert "this block was removed" in stale.content.decode()
    assert "Select a valid choice" not in stale.content.decode()
    assert not WorkingHours.objects.filter(staff=nurse).exists()
    seen_now = seen_in(stale.content, "hours-seen")
    again = second.post(
        url, _hours_form(seen_now, row, ("", "1", "09:00", "17:00"), delete=0)
    )
    assert again.status_code == 302
    assert [h.weekday for h in WorkingHours.objects.filter(staff=nurse)] == [1]


def test_an_hours_form_without_what_it_saw_changes_nothing(
    client_for: ClientFor, clinic_admin: User
) -> None:
    nurse = make_staff(Role.NURSE)
    form = _hours_form("", ("", "0", "08:00", "16:00"))
    del form["hours-seen"]
    response = client_for(clinic_admin).post(
        reverse("scheduling:staff_hours_edit", args=[nurse.pk]), form
    )
    assert response.status_code == 200
    assert b"does not say what it was opened with" in response.content
    assert not WorkingHours.objects.filter(staff=nurse).exists()


def test_the_hours_page_saves_as_a_browser_sends_it(
    client_for: ClientFor, clinic_admin: User
) -> None:
    """Spare rows left untouched send no day (a blank first choice), so saving the
    page as shown works; before, they came as Mondays with no times and failed."""
    nurse = make_staff(Role.NURSE)
    WorkingHours.objects.create(staff=nurse, weekday=0, starts=time(8), ends=time(16))
    url = reverse("scheduling:staff_hours_edit", args=[nurse.pk])
    client = client_for(clinic_admin)
    shown = form_as_shown(client.get(url).content.decode(), "hours-TOTAL_FORMS")
    shown["hours-0-ends"] = "15:00"
    assert client.post(url, {**shown, "save_hours": "1"}).status_code == 302
    assert [(h.weekday, h.ends) for h in WorkingHours.objects.filter(staff=nurse)] == [
        (0, time(15))
    ]
