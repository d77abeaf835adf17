"""Two nurses, two tablets, one dosing session (Debian's Chromium): the second
checklist save, made on a page opened before the first, is refused by name and
the page shows what the first nurse recorded. Then a questionnaire link sent to a
wrong address is withdrawn from the Measures tab, and stops working."""

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.roles import Role
from kapcare.lib.tokens import new_link_token
from kapcare.measures.models import QuestionnaireLink
from kapcare.treatment import services
from kapcare.treatment.models import DosingSession, Protocol
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e


@pytest.fixture
def tablets(
    browser: Browser, live_server: LiveServer, transactional_db: None
) -> Iterator[list[BrowserContext]]:
    opened = [
        browser.new_context(
            base_url=live_server.url, locale="en-CA", timezone_id="America/Toronto"
        )
        for _ in range(2)
    ]
    for context in opened:
        context.set_default_timeout(10_000)
    yield opened
    for context in opened:
        context.close()


def _checklist(page: Page, pregnancy: str) -> None:
    checklist = page.get_by_role("region", name="1. Pre-session checklist")
    checklist.get_by_label("Identity confirmed").check()
    checklist.get_by_label("Prepared as the protocol asks").check()
    checklist.get_by_label("No alcohol today").check()
    checklist.get_by_label("Who is taking the patient home").fill("Sam Vale")
    checklist.get_by_label("Pregnancy status").select_option(label=pregnancy)
    checklist.get_by_label("Questionnaires due before dosing are done").check()
    checklist.get_by_role("button", name="Save checklist").click()


def test_a_stale_checklist_is_refused_by_name_in_the_browser(
    tablets: list[BrowserContext],
) -> None:
    nurses = [
        UserFactory.create(roles=[Role.NURSE], full_name=name)
        for name in ("Nora Nurse", "Nell Nurse")
    ]
    physician = UserFactory.create(roles=[Role.PHYSICIAN])
    patient = PatientFactory.create(legal_given_name="Iris", legal_family_name="Vale")
    request = RequestFactory().post("/")
    request.user = physician
    course = services.create_course(
        request=request, patient=patient,
        protocol=Protocol.objects.get(seed_key="iv-racemic-0.5"),
        indication="depression", phase="induction", prescribed_dose=Decimal("0.5"),
        planned_sessions=6, starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    session = services.start_session(request=None, course=course, by=nurses[0])
    pages = [context.new_page() for context in tablets]
    for page, nurse in zip(pages, nurses, strict=True):
        sign_in(page, nurse, TOTPDeviceFactory.create(user=nurse))
        page.goto(session.get_absolute_url())
    _checklist(pages[0], "Pregnant or may be pregnant")
    expect(pages[0].get_by_role("status")).to_contain_text("Checklist complete.")
    _checklist(pages[1], "Not applicable")
    expect(pages[1].locator(".messages")).to_contain_text(
        "The pre-session checklist was changed by Nora Nurse after you opened this "
        "form, so nothing was saved."
    )
    checklist = pages[1].get_by_role("region", name="1. Pre-session checklist")
    expect(checklist.get_by_label("Pregnancy status")).to_have_value("pregnant")
    assert DosingSession.objects.get().pregnancy_status == "pregnant"


def test_a_link_sent_to_a_wrong_address_is_withdrawn(
    tablets: list[BrowserContext],
) -> None:
    therapist = UserFactory.create(roles=[Role.THERAPIST])
    patient = PatientFactory.create()
    token, digest = new_link_token()
    QuestionnaireLink.objects.create(
        patient=patient, instrument="phq9", token_hash=digest,
        sent_to="wrong@example.com",
        expires_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    page = tablets[0].new_page()
    sign_in(page, therapist, TOTPDeviceFactory.create(user=therapist))
    page.goto(f"/measures/patients/{patient.pk}/")
    page.get_by_text("Withdraw…").click()
    expect(
        page.get_by_text("Withdraw the PHQ-9 link sent to wrong@example.com?")
    ).to_be_visible()
    page.get_by_role("button", name="Withdraw link").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The PHQ-9 link no longer works."
    )
    expect(page.get_by_text("Waiting for the patient")).to_have_count(0)
    patient_tab = tablets[1].new_page()
    answer = patient_tab.goto(f"/measures/q/{token}/")
    assert answer is not None and answer.status == 410
    expect(patient_tab.locator("main")).to_contain_text(
        re.compile("withdrawn by the clinic")
    )
