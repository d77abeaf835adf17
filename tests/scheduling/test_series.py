"""Series booking: proposals respect every calendar; gaps are reported; booking is
all or nothing."""

from datetime import time

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import Appointment, Resource, TimeOff
from tests.conftest import ClientFor, make_staff
from tests.scheduling.test_booking import MONDAY, at, book, works_weekdays

pytestmark = pytest.mark.django_db


@pytest.fixture
def rn(db: None) -> User:
    return works_weekdays(make_staff(Role.NURSE))


@pytest.fixture
def counsellor(db: None) -> User:
    return works_weekdays(make_staff(Role.THERAPIST))


def propose(
    patient: Patient, rn: User, counsellor: User | None, **kw: object
) -> services.SeriesProposal:
    values: dict[str, object] = {
        "first_day": MONDAY, "sessions": 3, "per_week": 3, "earliest": time(9),
        "nurse": rn, "therapist": counsellor,
    }  # fmt: skip
    values.update(kw)
    return services.propose_series(patient=patient, **values)  # type: ignore[arg-type]


def test_a_week_with_a_chair_blocked_uses_the_other_chair(
    rn: User, counsellor: User, patient_a: Patient, patient_b: Patient
) -> None:
    chair_1 = Resource.objects.create(name="Chair 1", kind="chair")
    Resource.objects.create(name="Chair 2", kind="chair")
    other_nurse = works_weekdays(make_staff(Role.NURSE))
    book(patient_b, other_nurse, at(9, day=2), resource=chair_1)  # Wednesday
    proposal = propose(patient_a, rn, counsellor)
    assert proposal.missing == []
    rows = [
        (s.label, s.starts_at, getattr(s.resource, "name", None))
        for s in proposal.slots
    ]
    assert rows == [
        ("Dosing session 1", at(9), "Chair 1"),
        ("Integration after session 1", at(9, day=1), None),
        ("Dosing session 2", at(9, day=2), "Chair 2"),
        ("Integration after session 2", at(9, day=3), None),
        ("Dosing session 3", at(9, day=4), "Chair 1"),
        ("Integration after session 3", at(9, day=7), None),
    ]
    assert all(s.is_virtual for s in proposal.slots if s.resource is None)


def test_a_day_with_no_free_chair_is_reported_not_dropped(
    rn: User, patient_a: Patient
) -> None:
    Resource.objects.create(name="Chair 1", kind="chair")
    TimeOff.objects.create(staff=rn, starts_at=at(0, day=2), ends_at=at(23, day=2))
    proposal = propose(patient_a, rn, None)
    assert [s.label for s in proposal.slots] == ["Dosing session 1", "Dosing session 3"]
    assert proposal.missing == [
        "Dosing session 2 on Wednesday 2026-12-09: no chair free while "
        f"{rn.display_name} is working."
    ]


def test_twice_a_week_uses_tuesday_and_thursday(rn: User, patient_a: Patient) -> None:
    Resource.objects.create(name="Chair 1", kind="chair")
    proposal = propose(patient_a, rn, None, per_week=2, sessions=4)
    assert [s.starts_at.weekday() for s in proposal.slots] == [1, 3, 1, 3]


def test_booking_is_all_or_nothing(
    rn: User, counsellor: User, patient_a: Patient, patient_b: Patient
) -> None:
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    proposal = propose(patient_a, rn, counsellor)
    book(
        patient_b, works_weekdays(make_staff(Role.NURSE)), at(9, day=4), resource=chair
    )
    with pytest.raises(
        services.BookingError, match="Dosing session 3: Chair 1 is booked"
    ):
        services.book_series(request=None, patient=patient_a, proposal=proposal, by=rn)
    assert not Appointment.objects.filter(patient=patient_a).exists()


def test_the_front_desk_proposes_then_books_a_series(
    client_for: ClientFor, front_desk: User, rn: User, counsellor: User,
    patient_a: Patient,
) -> None:  # fmt: skip
    Resource.objects.create(name="Chair 1", kind="chair")
    client = client_for(front_desk)
    url = reverse("scheduling:series_create", args=[patient_a.pk])
    data = {
        "first_day": MONDAY.isoformat(), "sessions": "6", "per_week": "3",
        "earliest": "09:00", "nurse": rn.pk, "therapist": counsellor.pk,
        "propose": "1",
    }  # fmt: skip
    shown = client.post(url, data).content.decode()
    assert "Proposed: 12 appointments" in shown
    assert not Appointment.objects.exists()
    stale = client.post(url, {**data, "book": "1", "fingerprint": "old"})
    assert "The calendar changed" in stale.content.decode()
    fingerprint = services.propose_series(
        patient=patient_a, first_day=MONDAY, sessions=6, per_week=3,
        earliest=time(9), nurse=rn, therapist=counsellor,
    )  # fmt: skip
    from kapcare.scheduling.views import _fingerprint

    booked = client.post(
        url, {**data, "book": "1", "fingerprint": _fingerprint(fingerprint)}
    )
    assert booked.status_code == 302
    appointments = Appointment.objects.filter(patient=patient_a)
    assert appointments.count() == 12
    assert appointments.values("series").distinct().count() == 1
