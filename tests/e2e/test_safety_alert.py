"""A nurse enters a paper PHQ-9 with item 9 endorsed; the alert appears and is acknowledged."""

import pytest
from django.test import RequestFactory
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.measures.services import send_questionnaire_link
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PASSWORD, PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


def test_item_nine_raises_an_alert_the_nurse_acknowledges(page: Page) -> None:
    nurse = UserFactory.create(roles=[Role.NURSE])
    device = TOTPDeviceFactory.create(user=nurse)
    patient = PatientFactory.create(
        legal_given_name="Ines", legal_family_name="Marchetti"
    )
    sign_in(page, nurse, device)

    page.goto(f"/measures/patients/{patient.pk}/new/phq9/")
    items = page.locator("fieldset.item")
    expect(items).to_have_count(10)
    for index in range(8):
        items.nth(index).get_by_role("radio", name="0 · Not at all").check()
    items.nth(8).get_by_role("radio", name="2 · More than half the days").check()
    page.get_by_role("button", name="Save PHQ-9").click()

    alert = page.get_by_role("alert").filter(has_text="suicidal thoughts endorsed")
    expect(alert).to_be_visible()
    expect(page.get_by_role("link", name="Alerts")).to_contain_text("1")
    expect(page.get_by_role("row", name="PHQ-9")).to_contain_text("2")

    alert.get_by_label("What did you do?").select_option(label="Called the patient")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page.get_by_role("link", name="Alerts")).not_to_contain_text("1")
    stored = SafetyAlert.objects.get(patient=patient)
    assert (stored.state, stored.action, stored.acknowledged_by_id) == (
        "acknowledged",
        "called_patient",
        nurse.pk,
    )


def test_a_patients_item_nine_reaches_the_physician_who_clears_it(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    """Issue 4's journey: a patient answers item 9 = 2 in the portal and sees crisis
    resources; the physician sees the alert in the header on the next page load,
    acknowledges it with an action, and it leaves the queue."""
    physician = UserFactory.create(roles=[Role.PHYSICIAN])
    device = TOTPDeviceFactory.create(user=physician)
    patient = PatientFactory.create(
        legal_given_name="Tomas", legal_family_name="Okonkwo"
    )
    patient_user = UserFactory.create(kind=User.Kind.PATIENT, roles=[Role.PATIENT])
    Patient.objects.filter(pk=patient.pk).update(user=patient_user)
    request = RequestFactory().post("/")
    request.user = physician
    send_questionnaire_link(
        request=request, patient=patient, instrument="phq9", sent_by=physician
    )

    phone = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    mine = phone.new_page()
    mine.goto("/accounts/login/")
    mine.get_by_label("Email").fill(patient_user.email)
    mine.get_by_label("Password").fill(PASSWORD)
    mine.get_by_role("button", name="Sign in").click()
    mine.get_by_role("link", name="PHQ-9").click()
    questions = mine.locator("fieldset.item")
    for index in range(8):
        questions.nth(index).get_by_role("radio", name="Not at all").check()
    questions.nth(8).get_by_role("radio", name="More than half the days").check()
    expect(mine.get_by_role("status")).to_contain_text("9 of 10 answered")
    mine.get_by_role("button", name="Send my answers").click()
    crisis = mine.get_by_role("alert").filter(has_text="help is available now")
    expect(crisis).to_contain_text("9-8-8")
    expect(crisis).to_contain_text("9-1-1")
    phone.close()

    sign_in(page, physician, device)
    alerts_link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Alerts"
    )
    expect(alerts_link).to_contain_text("1")
    alerts_link.click()
    row = page.get_by_role("row").filter(has_text="Okonkwo")
    expect(row).to_contain_text("suicidal thoughts endorsed")
    row.get_by_role("link", name="Tomas Okonkwo").click()

    alert = page.get_by_role("alert").filter(has_text="suicidal thoughts endorsed")
    alert.get_by_label("What did you do?").select_option(label="Called the patient")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(alerts_link).not_to_contain_text("1")
    page.goto("/safety/alerts/")
    expect(page.get_by_text("No open safety alerts.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Okonkwo")).to_have_count(0)
