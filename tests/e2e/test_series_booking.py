"""Issue 7's journey: front desk books an induction series for a new patient, and
the patient sees it, with how to prepare, in the portal."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.patients.models import Patient
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    Resource,
    WorkingHours,
)
from kapcare.website.models import PortalBooking, get_clinic_profile
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PASSWORD, PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


def _weekday_hours(user: User) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=user, weekday=d, starts=time(8), ends=time(18))
        for d in range(5)
    )


def test_front_desk_books_an_induction_series_the_patient_sees_it(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    desk = UserFactory.create(roles=[Role.FRONT_DESK], full_name="Frankie Desk")
    device = TOTPDeviceFactory.create(user=desk)
    nurse = UserFactory.create(roles=[Role.NURSE], full_name="Nadia Nurse")
    therapist = UserFactory.create(roles=[Role.THERAPIST], full_name="Theo Therapist")
    _weekday_hours(nurse)
    _weekday_hours(therapist)
    Resource.objects.create(name="Chair 1", kind="chair")
    Resource.objects.create(name="Chair 2", kind="chair")
    patient = PatientFactory.create(legal_given_name="Noor", legal_family_name="Haddad")
    account = UserFactory.create(kind=User.Kind.PATIENT, roles=[Role.PATIENT])
    Patient.objects.filter(pk=patient.pk).update(user=account)
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())

    sign_in(page, desk, device)
    page.goto(f"/patients/{patient.pk}/appointments/")
    page.get_by_role("link", name="Book an induction series").click()
    page.get_by_label("From").fill(monday.isoformat())
    page.get_by_label("Sessions a week").select_option(label="3 (Mon, Wed, Fri)")
    page.get_by_label("Dosing nurse").select_option(label="Nadia Nurse (Nurse)")
    page.get_by_label("Integration therapist").select_option(
        label="Theo Therapist (Therapist)"
    )
    page.get_by_role("button", name="Propose slots").click()
    expect(
        page.get_by_role("heading", name="Proposed: 12 appointments")
    ).to_be_visible()
    rows = page.get_by_role("region", name="Proposed slots").get_by_role("row")
    expect(rows).to_have_count(13)
    expect(rows.nth(1)).to_contain_text("Dosing session 1")
    expect(rows.nth(1)).to_contain_text("Chair 1")
    page.get_by_role("button", name="Book these 12 appointments").click()
    expect(page.get_by_text("12 appointments booked.")).to_be_visible()
    expect(
        page.get_by_role("row").filter(has_text="Integration session")
    ).to_have_count(6)
    assert Appointment.objects.filter(patient=patient).count() == 12
    page.get_by_role("row").filter(has_text="Dosing session").first.get_by_role(
        "link"
    ).click()
    messages = page.get_by_role("region", name="Messages to the patient")
    expect(messages).to_contain_text("Series confirmation")
    expect(messages).to_contain_text(f"Email: {patient.email}")

    phone = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    mine = phone.new_page()
    mine.goto("/accounts/login/")
    mine.get_by_label("Email").fill(account.email)
    mine.get_by_label("Password").fill(PASSWORD)
    mine.get_by_role("button", name="Sign in").click()
    mine.get_by_role("link", name="My appointments").click()
    first = mine.locator("section.card").first
    expect(first).to_contain_text("Dosing session")
    expect(first).to_contain_text(monday.strftime("%A %-d %B %Y"))
    expect(first).to_contain_text("Arrange a ride home")
    expect(mine.locator("section.card")).to_have_count(12)
    phone.close()


def test_a_patient_books_an_integration_session_in_the_portal(
    page: Page, live_server: LiveServer
) -> None:
    therapist = UserFactory.create(roles=[Role.THERAPIST], full_name="Theo Therapist")
    _weekday_hours(therapist)
    AppointmentType.objects.filter(seed_key="integration").update(self_bookable=True)
    clinic = get_clinic_profile()
    clinic.portal_booking = PortalBooking.SELF
    clinic.save()
    patient = PatientFactory.create(legal_given_name="Ines", legal_family_name="Moreau")
    account = UserFactory.create(kind=User.Kind.PATIENT, roles=[Role.PATIENT])
    Patient.objects.filter(pk=patient.pk).update(user=account)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My appointments").click()
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Integration session (60 min)").check()
    page.get_by_role("button", name="Show free times").click()
    first = page.locator(".slot-list button").first
    label = first.get_attribute("aria-label") or ""
    assert label.startswith("Book ")
    first.click()
    expect(page.get_by_text("Booked: Integration session")).to_be_visible()
    card = page.locator("section.card").first
    expect(card).to_contain_text("Integration session")
    expect(card).to_contain_text("with Theo Therapist")
    page.get_by_role("link", name="Reminders: email").click()
    page.get_by_label("By text message").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    expect(page.get_by_label("By text message")).to_be_checked()
