"""Issue 6's journey: a nurse runs a whole IV session on a tablet, and a physician
co-signs it; the register balance drops by the dose and the wastage."""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
)
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.treatment import services
from kapcare.treatment.models import DosingSession, KetamineLot, Protocol
from tests.e2e.conftest import _REPORTS as REPORTS
from tests.e2e.conftest import RESULTS_DIR
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import PASSWORD, PatientFactory, TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e
TABLET: ViewportSize = {"width": 820, "height": 1180}


def _vitals(page: Page, systolic: int, diastolic: int, hr: int, spo2: int) -> None:
    """Record one set and wait for its row: each swap redraws the whole session."""
    rows = page.locator("table.flowsheet tbody th")
    before = rows.count()
    region = page.get_by_role("region", name="2. Vital signs")
    region.get_by_label("Systolic (mmHg)").fill(str(systolic))
    region.get_by_label("Diastolic (mmHg)").fill(str(diastolic))
    region.get_by_label("Heart rate (/min)").fill(str(hr))
    region.get_by_label("SpO₂ (%)").fill(str(spo2))
    region.get_by_label("Respiratory rate (/min)").fill("14")
    region.get_by_role("button", name="Record vitals").click()
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_text("Vitals recorded.")).to_be_visible()


@pytest.fixture
def contexts(request: pytest.FixtureRequest) -> Iterator[list[BrowserContext]]:
    """Browser contexts the test opens, closed even when it fails (after a
    screenshot of each page into test-results/)."""
    opened: list[BrowserContext] = []
    yield opened
    reports = request.node.stash.get(REPORTS, {})
    failed = "call" in reports and reports["call"].failed
    for n, context in enumerate(opened):
        if failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            for m, tab in enumerate(context.pages):
                tab.screenshot(
                    path=RESULTS_DIR / f"dosing_session_{n}_{m}.png", full_page=True
                )
        context.close()


def test_a_nurse_runs_an_iv_session_and_a_physician_cosigns(
    browser: Browser, live_server: LiveServer, transactional_db: None,
    contexts: list[BrowserContext], settings: Settings,
) -> None:  # fmt: skip
    nurse = UserFactory.create(roles=[Role.NURSE], full_name="Nora Nurse")
    nurse_device = TOTPDeviceFactory.create(user=nurse)
    witness = UserFactory.create(roles=[Role.NURSE], full_name="Wendy Witness")
    physician = UserFactory.create(roles=[Role.PHYSICIAN], full_name="Dr Pat Physician")
    physician_device = TOTPDeviceFactory.create(user=physician)
    patient = PatientFactory.create(legal_given_name="Iris", legal_family_name="Vale")
    request = RequestFactory().post("/")
    request.user = physician
    course = services.create_course(
        request=request, patient=patient,
        protocol=Protocol.objects.get(seed_key="iv-racemic-0.5"),
        indication="depression", phase="induction", prescribed_dose=Decimal("0.5"),
        planned_sessions=6, starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    request.user = nurse
    lot = services.receive_stock(
        request=request,
        receipt=services.Receipt(
            drug="ketamine", product="Ketamine HCl injection",
            strength_mg_per_ml=Decimal("10"), vial_volume_ml=Decimal("10"),
            supplier="Synthetic Pharma", lot_number="KX-2026",
            expires_on=timezone.localdate() + timedelta(days=300),
            received_on=timezone.localdate(), vials_received=10,
        ),
        witness=witness, password=PASSWORD, by=nurse,
    )  # fmt: skip
    assert lot.balance_mg == Decimal("1000.0")

    tablet = browser.new_context(
        base_url=live_server.url, viewport=TABLET, has_touch=True, locale="en-CA",
        timezone_id="America/Toronto",
    )  # fmt: skip
    contexts.append(tablet)
    tablet.set_default_timeout(10_000)
    page = tablet.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    sign_in(page, nurse, nurse_device)
    page.goto(course.get_absolute_url())
    page.get_by_role("button", name="Open the next session").click()
    expect(page.get_by_role("heading", name="Dosing session 1 of 6")).to_be_visible()
    session_url = page.url

    checklist = page.get_by_role("region", name="1. Pre-session checklist")
    checklist.get_by_label("Identity confirmed").check()
    checklist.get_by_label("Prepared as the protocol asks").check()
    checklist.get_by_label("No alcohol today").check()
    checklist.get_by_label("Who is taking the patient home").fill("Sam Vale")
    checklist.get_by_label("Pregnancy status").select_option(label="Not applicable")
    checklist.get_by_label("Questionnaires due before dosing are done").check()
    checklist.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_text("Checklist complete.")).to_be_visible()
    assert page.url == session_url  # htmx: no full reload

    _vitals(page, 124, 80, 74, 98)

    dose = page.get_by_role("region", name="3. Dose")
    dose.get_by_label("Today's weight (kg)").fill("82.4")
    dose.get_by_label("Concentration (mg/mL)").fill("10")
    dose.get_by_label("Bag volume (mL)").fill("100")
    expect(dose).to_contain_text("infused over 40 min")
    dose.get_by_role("button", name="Calculate").click()
    working = page.locator(".working")
    expect(working).to_contain_text("Dose: 82.4 kg × 0.500 mg/kg = 41.2 mg")
    expect(working).to_contain_text("Volume to draw: 41.2 mg ÷ 10 mg/mL = 4.12 mL")
    expect(working).to_contain_text("Volume in the bag: 100 mL + 4.12 mL = 104.12 mL")
    expect(working).to_contain_text("= 156.2 mL/h")
    dose = page.get_by_role("region", name="3. Dose")
    dose.get_by_label("Second clinician").select_option(label="Wendy Witness (Nurse)")
    dose.get_by_label("Their password").fill(PASSWORD)
    dose.get_by_role("button", name="Record the double-check").click()
    expect(page.get_by_text("Double-check recorded.")).to_be_visible()
    page.get_by_label("Drawn from lot").select_option(index=1)
    page.get_by_role("button", name="Start the dose").click()
    expect(page.get_by_text("Dose started; drawn from the register.")).to_be_visible()
    predicted = page.get_by_role("region", name="Predicted plasma ketamine")
    expect(
        predicted.get_by_role("img", name="Predicted plasma ketamine (not measured)")
    ).to_be_visible()
    expect(predicted).to_contain_text("Kamp 2020")
    expect(predicted).to_contain_text("185 ng/mL")

    # The patient asks for a break: the pump is paused and restarted, and the
    # predicted curve follows what the pump gave.
    dose = page.get_by_role("region", name="3. Dose")
    dose.get_by_text("Pause the infusion").click()
    dose.get_by_label("Why it was paused").fill("Patient asked for a break")
    dose.get_by_role("button", name="Pause", exact=True).click()
    expect(
        page.get_by_text("Infusion paused; the predicted curve now follows the pause.")
    ).to_be_visible()
    expect(predicted).to_contain_text("the curve assumes the pump stays paused")
    expect(page.get_by_role("region", name="Infusion pump")).to_contain_text(
        "Patient asked for a break"
    )
    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_text("Infusion restarted.")).to_be_visible()
    expect(predicted).to_contain_text("Follows the pump's recorded pauses")

    _vitals(page, 132, 84, 80, 97)
    _vitals(page, 158, 96, 92, 96)
    flowsheet = page.locator("table.flowsheet")
    expect(flowsheet).to_contain_text("Blood pressure high: systolic 158 > 140 mmHg")
    expect(flowsheet.locator("tr.out-of-range")).to_have_count(1)
    _vitals(page, 138, 86, 84, 97)
    _vitals(page, 128, 82, 78, 98)
    expect(flowsheet.locator("tbody th")).to_have_count(5)
    expect(page.get_by_role("img", name="Vital signs over the session")).to_be_visible()

    experience = page.get_by_role("region", name="4. Dissociation and experience")
    experience.get_by_label("CADSS total").fill("18")
    experience.get_by_role("button", name="Record CADSS").click()
    expect(page.get_by_text("Dissociation rating recorded.")).to_be_visible()

    events = page.get_by_role("region", name="5. Adverse events")
    events.get_by_text("Record an adverse event").click()
    events.get_by_label("Type").select_option(label="Nausea / vomiting")
    events.get_by_label("Severity").select_option(label="Mild")
    events.get_by_label("Action taken").fill("Ondansetron 4 mg ODT")
    events.get_by_label("Outcome").select_option(label="Resolved")
    events.get_by_role("button", name="Record adverse event").click()
    expect(page.get_by_text("Adverse event recorded.")).to_be_visible()

    register = page.get_by_role("region", name="Ketamine register for this session")
    register.get_by_text("Record wastage (witnessed)").click()
    register.get_by_label("Amount wasted (mg)").fill("58.8")
    register.get_by_label("Second clinician").select_option(
        label="Wendy Witness (Nurse)"
    )
    register.get_by_label("Their password").fill(PASSWORD)
    register.get_by_role("button", name="Record wastage").click()
    expect(page.get_by_text("Wastage recorded.")).to_be_visible()

    discharge = page.get_by_role("region", name="6. Discharge")
    expect(discharge).to_contain_text("Score readiness once the infusion has ended")

    # Time passes on the server's clock (nobody is signed out for being idle).
    settings.STAFF_IDLE_TIMEOUT = timedelta(hours=4)
    dosed_at = timezone.now()
    with time_machine.travel(dosed_at + timedelta(minutes=45), tick=True):
        page.get_by_role("link", name="Refresh the page").click()
        discharge = page.get_by_role("region", name="6. Discharge")
        for item in ("Activity", "Respiration", "Circulation", "Consciousness"):
            discharge.get_by_role("group", name=item).get_by_role("radio").first.check()
        discharge.get_by_role("group", name="Oxygen saturation").get_by_role(
            "radio"
        ).first.check()
        discharge.get_by_label("The escort is here").check()
        discharge.get_by_role("button", name="Save score").click()
        # Each step redraws the session: wait for its own message before the next.
        expect(page.get_by_text("Aldrete score 10 recorded.")).to_be_visible()
        gate = page.locator(".gate")
        expect(gate).to_contain_text("Not ready for discharge")
        expect(gate).to_contain_text("the protocol asks for at least 120 min")
        expect(page.get_by_role("button", name="Discharge the patient")).to_have_count(
            0
        )

    # The 40-min infusion and 2 h of observation have passed.
    with time_machine.travel(dosed_at + timedelta(minutes=161), tick=True):
        try:
            _after_observation(
                page, browser, live_server, contexts, physician, physician_device,
                session_url,
            )  # fmt: skip
        except AssertionError as failure:
            raise AssertionError(f"{failure}\nBrowser problems: {problems}") from None
    assert not problems, problems
    lot = KetamineLot.objects.get(pk=lot.pk)
    assert lot.balance_mg == Decimal("1000.0") - Decimal("41.2") - Decimal("58.8")
    session = DosingSession.objects.get(course=course)
    assert (session.status, session.signed_by_id, session.vitals.count()) == (
        "signed", physician.pk, 5,
    )  # fmt: skip


def _after_observation(
    page: Page, browser: Browser, live_server: LiveServer,
    contexts: list[BrowserContext], physician: User, physician_device: TOTPDevice,
    session_url: str,
) -> None:  # fmt: skip
    """Discharge, completion, the physician's co-signature and the register."""
    page.get_by_role("link", name="Refresh the page").click()
    expect(page.locator(".gate")).to_contain_text("Ready for discharge (Aldrete 10)")
    page.get_by_role("button", name="Discharge the patient").click()
    expect(page.get_by_text("Patient discharged.")).to_be_visible()
    page.get_by_role("button", name="Complete the session").click()
    expect(page.get_by_text("Awaiting a physician's co-signature.")).to_be_visible()

    desk = browser.new_context(base_url=live_server.url, locale="en-CA")
    contexts.append(desk)
    desk.set_default_timeout(10_000)
    doctor = desk.new_page()
    sign_in(doctor, physician, physician_device)
    doctor.goto(session_url)
    doctor.get_by_role("button", name="Co-sign the session").click()
    expect(
        doctor.get_by_text("Session co-signed. It is now read-only.")
    ).to_be_visible()
    expect(doctor.get_by_role("button", name="Record vitals")).to_have_count(0)

    doctor.goto("/register/")
    expect(doctor.get_by_role("row", name="KX-2026")).to_contain_text("900.0 mg")
