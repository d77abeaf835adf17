"""A physician opens Outcomes, narrows the period and a filter, reads the numbers
with their definitions, and downloads the pseudonymised cohort CSV."""

from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

from kapcare.accounts.models import User
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import TOTPDeviceFactory
from tests.outcomes.conftest import Cohort, build_hand_built

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def row(page: Page, table: Locator, header: str) -> Locator:
    """The table row whose row header is exactly `header`."""
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=header, exact=True)
    )


@pytest.fixture
def hand_built(physician: User, nurse: User) -> Cohort:
    return build_hand_built(physician, nurse)


def test_a_physician_reads_the_outcomes_and_exports_the_cohort(
    page: Page,
    physician: User,
    hand_built: Cohort,
    tmp_path: Path,
) -> None:
    device = TOTPDevice.objects.filter(
        user=physician
    ).first() or TOTPDeviceFactory.create(user=physician)
    sign_in(page, physician, device)
    page.get_by_role("link", name="Outcomes").click()
    filters = page.get_by_role("form", name="Period and filters")
    filters.get_by_label("From:", exact=True).fill("2026-01-01")
    filters.get_by_label("To:", exact=True).fill("2026-06-30")
    filters.get_by_role("button", name="Show").click()
    expect(page.get_by_text("8 patient-courses with a first dose")).to_be_visible()

    phq9 = page.get_by_role("region", name="PHQ-9")
    expect(row(page, phq9, "Response")).to_contain_text("2 of 3 (66.7%)")
    expect(row(page, phq9, "Remission")).to_contain_text("PHQ-9 < 5")
    expect(row(page, phq9, "Median time to first response")).to_contain_text(
        "22.5 days"
    )
    funnel = page.get_by_role("region", name="From request to maintenance")
    expect(row(page, funnel, "Started")).to_contain_text("7")
    expect(page.get_by_role("region", name="Safety")).to_contain_text(
        "Nausea / vomiting"
    )

    page.screenshot(path=tmp_path / "outcomes.png", full_page=True)
    filters = page.get_by_role("form", name="Period and filters")
    filters.get_by_label("Sex at birth").select_option(label="Male")
    filters.get_by_role("button", name="Show").click()
    expect(page.get_by_text("2 patient-courses with a first dose")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "cohort.csv"
    download_info.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("patient_pseudonym,age_band,sex_at_birth")
    assert len(lines) == 3 and all(",male," in line for line in lines[1:])
    assert hand_built.people["b"].mrn not in saved.read_text()

    if AXE.exists():
        page.evaluate(AXE.read_text())
        result = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            })"""
        )
        serious = [
            f"{v['id']}: {v['help']}" for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]  # fmt: skip
        assert serious == [], serious


def test_a_physician_previews_and_downloads_a_progress_report(
    page: Page, physician: User, hand_built: Cohort, tmp_path: Path
) -> None:
    """From the patient's Measures tab: the preview, the plan, the PDF."""
    device = TOTPDevice.objects.filter(
        user=physician
    ).first() or TOTPDeviceFactory.create(user=physician)
    sign_in(page, physician, device)
    a = hand_built.people["a"]
    page.goto(f"/measures/patients/{a.pk}/")
    page.get_by_role(
        "link", name="Progress report for the referring clinician (PDF)"
    ).click()
    preview = page.get_by_role("article", name="Preview of the report")
    expect(preview).to_contain_text(a.legal_family_name)
    expect(preview).to_contain_text("2 of 6 planned")
    page.get_by_label("Current plan").fill("Monthly maintenance; review in 3 months.")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()
    saved = tmp_path / "report.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes()[:4] == b"%PDF"
