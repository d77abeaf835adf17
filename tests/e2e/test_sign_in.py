"""Signing in, two-step verification and finding a patient, in Debian's Chromium."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, totp_code
from tests.factories import PASSWORD, PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


def _enter_password(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_nurse_signs_in_finds_a_patient_and_opens_the_chart(page: Page) -> None:
    nurse = UserFactory.create(roles=[Role.NURSE])
    device = TOTPDeviceFactory.create(user=nurse)
    wanted = PatientFactory.create(
        legal_given_name="Maeve", legal_family_name="Quillfeather"
    )
    PatientFactory.create(legal_given_name="Omar", legal_family_name="Abernethy")

    _enter_password(page, nurse)
    expect(page).to_have_url(re.compile(r"/accounts/two-step/\?"))
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    page.get_by_label("6-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()

    # Clinicians start on their caseload; the patient list is one link away.
    expect(page).to_have_url(re.compile(r"/safety/caseload/$"))
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Patients"
    ).click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    page.wait_for_load_state()
    assert page.evaluate("window.htmx && window.htmx.version") == "2.0.8"
    # kapcare.css keeps the skip link off-screen until it has focus.
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_have_css("position", "absolute")
    expect(skip_link).not_to_be_in_viewport()
    results = page.locator("#patient-results")
    expect(results.get_by_role("link", name="Abernethy, Omar")).to_be_visible()

    # A full page load would drop this marker; htmx swaps only #patient-results.
    page.evaluate("window.kapcareSamePage = true")
    with page.expect_response(
        lambda r: (
            "q=Quillfeather" in r.url and r.request.headers.get("hx-request") == "true"
        )
    ) as search:
        page.get_by_label("Search patients").fill("Quillfeather")
    assert search.value.status == 200
    expect(results.get_by_role("link", name="Abernethy, Omar")).to_have_count(0)
    # The header row and one patient.
    expect(results.get_by_role("row")).to_have_count(2)
    # The search term is a patient's name: it stays out of the address bar and history.
    assert "Quillfeather" not in page.url
    assert page.evaluate("window.kapcareSamePage") is True

    results.get_by_role("link", name="Quillfeather, Maeve").click()

    expect(page).to_have_url(re.compile(rf"/patients/{wanted.pk}/$"))
    header = page.locator("header.chart-header")
    expect(header.get_by_role("heading", name="Maeve Quillfeather")).to_be_visible()
    expect(header).to_contain_text(f"MRN {wanted.mrn}")


def test_staff_without_an_authenticator_enrol_before_reaching_patients(
    page: Page,
) -> None:
    nurse = UserFactory.create(roles=[Role.NURSE])

    _enter_password(page, nurse)

    expect(page).to_have_url(re.compile(r"/accounts/two-step/setup/\?"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    # The page has loaded, so the view has created the unconfirmed device.
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    page.get_by_label("6-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(re.compile(r"/safety/caseload/$"))
    expect(page.get_by_role("status").first).to_contain_text(
        "Two-step verification is set up."
    )
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    device.refresh_from_db()
    assert device.confirmed


def test_the_enrolment_qr_code_is_an_image_the_browser_can_draw(page: Page) -> None:
    _enter_password(page, UserFactory.create(roles=[Role.NURSE]))

    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    width = qr.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")
    assert width > 0, "Chromium could not decode the QR code image"


def test_the_first_tab_on_the_login_page_reaches_the_skip_link(page: Page) -> None:
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")

    # Focus moves during the key press, so a one-shot read suffices.
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
