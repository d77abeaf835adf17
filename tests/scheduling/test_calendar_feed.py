"""The clinician's private iCalendar feed."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import Resource
from tests.conftest import ClientFor, make_staff
from tests.scheduling.test_booking import at, book, works_weekdays

pytestmark = pytest.mark.django_db


@pytest.fixture
def rn(db: None) -> User:
    return works_weekdays(make_staff(Role.NURSE))


def feed(client: Client, token: str) -> bytes:
    response = client.get(reverse("scheduling:calendar_ics", args=[token]))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return response.content


def test_the_feed_parses_with_toronto_time_and_no_patient_names(
    client: Client, rn: User, patient_a: Patient
) -> None:
    chair = Resource.objects.create(name="Chair 1", kind="chair")
    soon = timezone.localtime() + timedelta(days=3)
    start = at(9, day=(soon.date() - at(0).date()).days)
    if start.weekday() > 4:
        start += timedelta(days=7 - start.weekday())
    book(patient_a, rn, start, resource=chair)
    token = services.issue_calendar_feed(request=None, user=rn)
    calendar = Calendar.from_ical(feed(client, token))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Dosing session ({patient_a.mrn})"
    assert patient_a.display_name not in str(calendar.to_ical())
    assert event.decoded("DTSTART") == timezone.localtime(start)
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    assert str(event["LOCATION"]) == "Chair 1"
    assert AuditEvent.objects.filter(
        patient=patient_a, action="export", object_type="calendar_feed", actor=rn
    ).exists()


def test_a_replaced_or_revoked_link_stops_working(client: Client, rn: User) -> None:
    old = services.issue_calendar_feed(request=None, user=rn)
    new = services.issue_calendar_feed(request=None, user=rn)
    assert client.get(reverse("scheduling:calendar_ics", args=[old])).status_code == 404
    feed(client, new)
    services.revoke_calendar_feed(request=None, user=rn)
    assert client.get(reverse("scheduling:calendar_ics", args=[new])).status_code == 404


def test_a_deactivated_clinicians_feed_is_gone(client: Client, rn: User) -> None:
    token = services.issue_calendar_feed(request=None, user=rn)
    User.objects.filter(pk=rn.pk).update(is_active=False)
    assert (
        client.get(reverse("scheduling:calendar_ics", args=[token])).status_code == 404
    )


def test_the_page_shows_a_new_link_once(client_for: ClientFor, rn: User) -> None:
    client = client_for(rn)
    url = reverse("scheduling:calendar_feed")
    created = client.post(url).content.decode()
    assert "/calendar/" in created and ".ics" in created
    assert "/calendar/" not in client.get(url).content.decode()
    client.post(url, {"revoke": "1"})
    assert "No link yet." in client.get(url).content.decode()


def test_the_link_expires_after_a_year(client_for: ClientFor, rn: User) -> None:
    token = services.issue_calendar_feed(request=None, user=rn)
    page = reverse("scheduling:calendar_feed")
    until = (timezone.localtime() + timedelta(days=365)).strftime("%Y-%m-%d")
    assert f"works until {until}" in client_for(rn).get(page).content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=364)):
        feed(Client(), token)
    with time_machine.travel(timezone.now() + timedelta(days=365, seconds=1)):
        ics = reverse("scheduling:calendar_ics", args=[token])
        assert Client().get(ics).status_code == 404
        shown = client_for(rn).get(page).content.decode()
        assert f"Your link expired on {until}" in shown
