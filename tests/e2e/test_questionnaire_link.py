"""Issue 3's browser journey on a phone-sized screen: emailed link, PHQ-9 with item 9,
crisis resources, the clinician sees the score, and the link refuses reuse."""

import re

import pytest
from django.core import mail
from django.test import RequestFactory
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.roles import Role
from kapcare.measures.services import send_questionnaire_link
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


def test_a_patient_answers_by_link_on_a_phone(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    nurse = UserFactory.create(roles=[Role.NURSE])
    device = TOTPDeviceFactory.create(user=nurse)
    patient = PatientFactory.create(
        legal_given_name="Rosa", legal_family_name="Delacroix"
    )

    request = RequestFactory().post("/")
    request.user = nurse
    send_questionnaire_link(
        request=request, patient=patient, instrument="phq9", sent_by=nurse
    )
    match = re.search(r"(/measures/q/\S+/)", str(mail.outbox[-1].body))
    assert match is not None
    link = match.group(1)

    phone = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    patient_page = phone.new_page()
    patient_page.goto(link)
    questions = patient_page.locator("fieldset.item")
    for index in range(4):
        questions.nth(index).get_by_role("radio", name="Several days").check()
    expect(patient_page.get_by_role("status")).to_contain_text("4 of 10 answered")

    # Leave and come back: the answers were saved as they went.
    patient_page.goto(link)
    expect(questions.nth(3).get_by_role("radio", name="Several days")).to_be_checked()
    for index in range(4, 8):
        questions.nth(index).get_by_role("radio", name="Several days").check()
    questions.nth(8).get_by_role("radio", name="More than half the days").check()
    # Crisis resources appear as soon as item 9 is answered, before sending.
    early = patient_page.locator("#crisis-now").get_by_role("alert")
    expect(early).to_contain_text("9-8-8")
    expect(patient_page.get_by_role("status")).to_contain_text("9 of 10 answered")
    patient_page.get_by_role("button", name="Send my answers").click()
    crisis = patient_page.get_by_role("alert")
    expect(crisis).to_contain_text("9-8-8")
    expect(crisis).to_contain_text("9-1-1")

    patient_page.goto(link)
    expect(
        patient_page.get_by_role(
            "heading", name="This questionnaire link no longer works"
        )
    ).to_be_visible()
    phone.close()

    sign_in(page, nurse, device)
    page.goto(f"/measures/patients/{patient.pk}/")
    expect(page.get_by_role("row", name=re.compile("PHQ-9"))).to_contain_text("10")
    expect(
        page.get_by_role("alert").filter(has_text="suicidal thoughts endorsed")
    ).to_be_visible()
