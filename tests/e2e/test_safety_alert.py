"""A nurse enters a paper PHQ-9 with item 9 endorsed; the alert appears and is acknowledged."""

import pytest
from playwright.sync_api import Page, expect

from kapcare.accounts.roles import Role
from kapcare.safety.models import SafetyAlert
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PatientFactory, TOTPDeviceFactory, UserFactory

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
