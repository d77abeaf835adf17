"""Two clinicians on one dosing session page: a save made from a page that no
longer shows what is saved is refused with who changed it (reference T16), and
nothing is written: a stale checklist cannot undo a colleague's pregnancy entry,
a witness or a start is always of the dose on screen, an override always of the
baseline blood pressure on screen."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.treatment import services
from kapcare.treatment.models import DosingSession, KetamineLot
from tests.conftest import ClientFor
from tests.factories import PASSWORD
from tests.treatment.conftest import (
    CHECKLIST_DONE,
    NORMAL_VITALS,
    ready_to_dose,
    request_by,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
HIGH_BP = {**NORMAL_VITALS, "systolic": 170, "diastolic": 100}


def step(session: DosingSession, name: str) -> str:
    return reverse(
        "treatment:session_step", args=[session.patient_id, session.pk, name]
    )


def seen_on_page(client: Client, session: DosingSession, name: str) -> str:
    """The hidden version the page's form for step `name` carries."""
    page = client.get(session.get_absolute_url()).content.decode()
    form = re.search(
        rf'action="{re.escape(step(session, name))}".*?</form>', page, re.S
    )
    assert form is not None, f"no {name} form on the page"
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', form.group(0))
    assert seen is not None, f"the {name} form carries no version"
    return seen.group(1)


def _checklist_post(values: dict[str, object], seen: str | None) -> dict[str, object]:
    data: dict[str, object] = {
        f"checklist-{k}": ("on" if v is True else v)
        for k, v in values.items()
        if v is not False
    }
    if seen is not None:
        data["seen"] = seen
    return data


def test_a_stale_checklist_cannot_undo_a_colleagues_entry(
    client_for: ClientFor, nurse: User, second_nurse: User,
    open_session: DosingSession,
) -> None:  # fmt: skip
    first, second = client_for(nurse), client_for(second_nurse)
    first_seen = seen_on_page(first, open_session, "checklist")
    second_seen = seen_on_page(second, open_session, "checklist")
    pregnant = {**CHECKLIST_DONE, "pregnancy_status": "pregnant"}
    saved = first.post(
        step(open_session, "checklist"), _checklist_post(pregnant, first_seen)
    )
    assert saved.status_code == 302
    stale = second.post(
        step(open_session, "checklist"), _checklist_post(CHECKLIST_DONE, second_seen),
        headers=HTMX,
    )  # fmt: skip
    body = stale.content.decode()
    assert (
        f"The pre-session checklist was changed by {nurse.display_name} after you "
        "opened this form, so nothing was saved." in body
    )
    open_session.refresh_from_db()
    assert open_session.pregnancy_status == "pregnant"
    assert open_session.checklist_done_by == nurse
    # the page now carries the current version: the second nurse can save again
    fresh = re.search(r'name="seen" value="([0-9a-f]+)"', body)
    assert fresh is not None and fresh.group(1) != second_seen
    again = {**CHECKLIST_DONE, "pregnancy_status": "negative_test"}
    second.post(
        step(open_session, "checklist"),
        _checklist_post(again, seen_on_page(second, open_session, "checklist")),
    )
    open_session.refresh_from_db()
    assert open_session.pregnancy_status == "negative_test"


def test_a_post_without_its_version_is_refused(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    answer = client_for(nurse).post(
        step(open_session, "checklist"), _checklist_post(CHECKLIST_DONE, None),
        follow=True,
    )  # fmt: skip
    assert b"was changed by" in answer.content
    open_session.refresh_from_db()
    assert open_session.checklist_done_at is None and not open_session.escort_name


def test_the_witness_signs_for_the_dose_on_screen_only(
    client_for: ClientFor, nurse: User, second_nurse: User, physician: User,
    open_session: DosingSession,
) -> None:  # fmt: skip
    session = open_session
    services.calculate_session_dose(
        request=request_by(nurse), session=session, weight_kg=Decimal("70"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=nurse,
    )  # fmt: skip
    client = client_for(nurse)
    seen = seen_on_page(client, session, "witness")
    services.calculate_session_dose(
        request=request_by(physician), session=session, weight_kg=Decimal("100"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=physician,
    )  # fmt: skip
    answer = client.post(
        step(session, "witness"),
        {"witness-witness": second_nurse.pk, "witness-witness_password": PASSWORD,
         "seen": seen},
        headers=HTMX,
    )  # fmt: skip
    assert (
        f"The calculated dose was changed by {physician.display_name}"
        in answer.content.decode()
    )
    session.refresh_from_db()
    assert session.dose_mg == Decimal("50.0") and session.dose_witness is None
    retry = {
        "witness-witness": second_nurse.pk, "witness-witness_password": PASSWORD,
        "seen": seen_on_page(client, session, "witness"),
    }  # fmt: skip
    assert (
        b"Double-check recorded"
        in client.post(step(session, "witness"), retry, headers=HTMX).content
    )
    session.refresh_from_db()
    assert session.dose_witness == second_nurse


def test_a_start_from_a_stale_page_draws_nothing(
    client_for: ClientFor, nurse: User, second_nurse: User, physician: User,
    open_session: DosingSession, lot: KetamineLot,
) -> None:  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse)
    client = client_for(nurse)
    seen = seen_on_page(client, session, "start")
    services.calculate_session_dose(
        request=request_by(physician), session=session, weight_kg=Decimal("60"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=physician,
    )  # fmt: skip
    services.witness_dose(
        request=request_by(physician), session=session, witness=second_nurse,
        password=PASSWORD, by=physician,
    )  # fmt: skip
    answer = client.post(
        step(session, "start"), {"start-lot": lot.pk, "seen": seen}, headers=HTMX
    )
    assert "The calculated dose or its double-check was changed by" in (
        answer.content.decode()
    )
    session.refresh_from_db()
    lot.refresh_from_db()
    assert session.dose_started_at is None and lot.balance_mg == Decimal("5000.0")
    started = client.post(
        step(session, "start"),
        {"start-lot": lot.pk, "seen": seen_on_page(client, session, "start")},
        headers=HTMX,
    )
    assert b"Dose started" in started.content
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("4970.0")  # 60 kg x 0.5 mg/kg


def test_an_override_is_of_the_baseline_on_screen(
    client_for: ClientFor, nurse: User, second_nurse: User, physician: User,
    open_session: DosingSession,
) -> None:  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    client = client_for(physician)
    seen = seen_on_page(client, session, "override")
    services.record_vitals(
        request=request_by(second_nurse), session=session,
        values={**HIGH_BP, "systolic": 210, "diastolic": 125},
        taken_at=timezone.now(), is_baseline=True, by=second_nurse,
    )  # fmt: skip
    answer = client.post(
        step(session, "override"),
        {"override-reason": "Anxious; repeat reading lower", "seen": seen},
        headers=HTMX,
    )
    assert (
        f"The baseline blood pressure was changed by {second_nurse.display_name}"
        in answer.content.decode()
    )
    session.refresh_from_db()
    assert session.blood_pressure_override_at is None
