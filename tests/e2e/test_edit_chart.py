"""Correcting a chart in Debian's Chromium: a wrong health number, then the right one."""

import re

import pytest
from playwright.sync_api import Page, expect

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.patients.healthcard import HealthCard, luhn_is_valid
from kapcare.patients.models import Patient
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import (
    PatientFactory,
    TOTPDeviceFactory,
    UserFactory,
    valid_health_number,
)

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e

WRONG_CHECK_DIGIT = "1234567890"
CHECK_DIGIT_ERROR = (
    "This health number's check digit (the last digit) is wrong; please re-check it."
)


def _open_edit_form_as_a_nurse(page: Page, patient: Patient) -> User:
    nurse = UserFactory.create(roles=[Role.NURSE])
    sign_in(page, nurse, TOTPDeviceFactory.create(user=nurse))
    page.goto(patient.get_absolute_url())
    page.get_by_role("link", name="Edit details").click()
    expect(
        page.get_by_role("heading", name=f"Edit {patient.display_name}")
    ).to_be_visible()
    return nurse


def test_a_wrong_check_digit_is_shown_at_the_field_and_a_fix_is_saved(
    page: Page,
) -> None:
    assert not luhn_is_valid(WRONG_CHECK_DIGIT)
    patient = PatientFactory.create(preferred_name="", pronouns="")
    fixed = next(
        number
        for seed in range(1000, 2000)
        if (number := valid_health_number(seed)) != patient.health_number
    )
    nurse = _open_edit_form_as_a_nurse(page, patient)

    page.get_by_label("Preferred name").fill("Nessa")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_label("Ontario health number").fill(WRONG_CHECK_DIGIT)
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    health_number = page.get_by_label("Ontario health number")
    expect(health_number).to_have_attribute("aria-invalid", "true")
    expect(health_number).to_have_accessible_description(
        re.compile(re.escape(CHECK_DIGIT_ERROR))
    )
    expect(page.locator(".field.has-error").filter(has=health_number)).to_contain_text(
        CHECK_DIGIT_ERROR
    )
    expect(health_number).to_have_value(WRONG_CHECK_DIGIT)
    expect(page.get_by_label("Preferred name")).to_have_value("Nessa")
    expect(page.get_by_label("Pronouns")).to_have_value("she/her")

    health_number.fill(fixed)
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("header.chart-header")).to_contain_text(
        HealthCard(fixed, patient.health_version_code).formatted
    )

    page.get_by_role("link", name="Change history").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/history/$"))
    entry = page.locator("ol.history > li").first
    expect(entry).to_contain_text(f"by {nurse.email} (Nurse)")
    change = entry.get_by_role("row", name=re.compile("^Ontario health number"))
    expect(change.get_by_role("cell")).to_have_text([patient.health_number, fixed])
    expect(
        entry.get_by_role("row", name=re.compile("^Preferred name"))
    ).to_contain_text("Nessa")
    expect(entry.get_by_role("row", name=re.compile("^Pronouns"))).to_contain_text(
        "she/her"
    )


def test_a_wrong_check_digit_flags_only_the_health_number(page: Page) -> None:
    patient = PatientFactory.create(health_version_code="AB")
    _open_edit_form_as_a_nurse(page, patient)

    page.get_by_label("Ontario health number").fill(WRONG_CHECK_DIGIT)
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_label("Ontario health number")).to_have_attribute(
        "aria-invalid", "true"
    )
    # The page has been redrawn, so one-shot reads suffice (and an expected failure is quick).
    assert page.get_by_label("Version code").get_attribute("aria-invalid") is None
    assert (
        page.get_by_role("alert").inner_text()
        == "Please correct the 1 field marked below."
    )
