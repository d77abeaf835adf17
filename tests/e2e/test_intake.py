"""Issue 5's journey: a visitor on a phone takes the self-check, attaches it to a
consultation request and sends it; front desk finds it on the board and converts it."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.roles import Role
from kapcare.intake.models import ConsultationRequest
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


def test_a_visitor_self_checks_asks_for_a_consultation_and_becomes_a_patient(
    page: Page, browser: Browser, live_server: LiveServer, settings: Settings
) -> None:
    settings.INTAKE_MIN_FILL_SECONDS = 0
    front_desk = UserFactory.create(roles=[Role.FRONT_DESK])
    device = TOTPDeviceFactory.create(user=front_desk)

    phone = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    visitor = phone.new_page()
    visitor.goto("/")
    visitor.get_by_role("link", name="Is ketamine therapy right for me?").click()
    items = visitor.locator("fieldset.item")
    for index in range(8):
        items.nth(index).get_by_role("radio", name="More than half the days").check()
    items.nth(8).get_by_role("radio", name="Not at all").check()
    visitor.get_by_role(
        "group", name=re.compile("how many antidepressants")
    ).get_by_role("radio", name="Three or more").check()
    for group in (
        visitor.locator("fieldset.item")
        .filter(has=visitor.get_by_role("radio", name="Yes", exact=True))
        .all()
    ):
        group.get_by_role("radio", name="No", exact=True).check()
    visitor.get_by_role("button", name="See my result").click()
    expect(
        visitor.get_by_role(
            "heading", name="You may be a candidate for ketamine therapy"
        )
    ).to_be_visible()
    visitor.get_by_role(
        "button", name="Request a consultation with these answers"
    ).click()
    expect(
        visitor.get_by_text("Your self-check answers will be sent with this request.")
    ).to_be_visible()
    visitor.get_by_role("textbox", name="First name").fill("Marisol")
    visitor.get_by_role("textbox", name="Last name").fill("Ferreira")
    visitor.get_by_role("textbox", name="Email").fill("marisol@example.com")
    visitor.get_by_role("textbox", name="Phone").fill("416 555 0190")
    visitor.get_by_role("radio", name="Phone call").check()
    visitor.get_by_label(re.compile("I agree that")).check()
    visitor.get_by_role("button", name="Send my request").click()
    expect(
        visitor.get_by_role("heading", name="Thank you, your request was received")
    ).to_be_visible()
    phone.close()

    sign_in(page, front_desk, device)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Intake"
    ).click()
    row = page.get_by_role("row").filter(has_text="Marisol Ferreira")
    expect(row).to_contain_text("attached")  # the answers are for clinical staff
    row.get_by_role("link", name="Marisol Ferreira").click()
    page.get_by_role("link", name="Convert to patient…").click()
    expect(page.get_by_label("Legal family name")).to_have_value("Ferreira")
    page.get_by_label("Date of birth").fill("1991-04-12")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_role("button", name="Create chart").click()
    expect(page.get_by_role("heading", name="Marisol Ferreira")).to_be_visible()
    consult = ConsultationRequest.objects.get()
    assert consult.patient is not None
    assert consult.self_check.outcome == "candidate"
