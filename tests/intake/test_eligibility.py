"""Eligibility: TRD count, Maudsley staging at every boundary (Fekadu 2018 Table 3 via
clinical-rules.md §8), the contraindication block and override, signed records."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.eligibility import (
    Trial,
    adequate_failed_trials,
    bmi,
    duration_score,
    failures_score,
    is_trd,
    maudsley,
)
from kapcare.intake.models import EligibilityAssessment
from kapcare.patients.models import Patient
from tests.conftest import ClientFor


@pytest.mark.parametrize(
    ("months", "points"), [(0, 1), (12, 1), (13, 2), (24, 2), (25, 3), (120, 3)]
)
def test_episode_duration_levels(months: int, points: int) -> None:
    assert duration_score(months) == points


@pytest.mark.parametrize(
    ("failed", "points"),
    [
        (0, None),
        (1, 1),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (6, 3),
        (7, 4),
        (10, 4),
        (11, 5),
    ],
)
def test_treatment_failure_levels(failed: int, points: int | None) -> None:
    assert failures_score(failed) == points


@pytest.mark.parametrize(
    ("months", "severity", "failed", "aug", "ect", "total", "band"),
    [
        (6, "subsyndromal", 1, False, False, 3, "mild"),  # minimum
        (13, "moderate", 1, False, False, 6, "mild"),  # 2 + 3 + 1
        (13, "moderate", 3, False, False, 7, "moderate"),  # 2 + 3 + 2
        (25, "severe", 3, True, False, 10, "moderate"),  # 3 + 4 + 2 + 1
        (25, "severe", 5, True, False, 11, "severe"),  # 3 + 4 + 3 + 1
        (30, "severe_psychotic", 11, True, True, 15, "severe"),  # maximum
    ],
)
def test_msm_totals_and_bands_at_each_boundary(
    months: int, severity: str, failed: int, aug: bool, ect: bool, total: int, band: str
) -> None:
    result = maudsley(
        months=months, severity=severity, failed=failed, augmentation=aug, ect=ect
    )
    assert result is not None
    assert (result.total, result.band) == (total, band)


def test_msm_is_undefined_without_a_failed_antidepressant() -> None:
    assert (
        maudsley(months=6, severity="mild", failed=0, augmentation=False, ect=False)
        is None
    )


def test_only_adequate_non_responses_count_towards_trd() -> None:
    trials = [
        Trial(adequate=True, outcome="no_response"),
        Trial(adequate=True, outcome="intolerance"),
        Trial(adequate=False, outcome="no_response"),
        Trial(adequate=True, outcome="response"),
    ]
    assert adequate_failed_trials(trials) == 1
    assert not is_trd(trials)
    assert is_trd([*trials, Trial(adequate=True, outcome="partial")])


def test_bmi() -> None:
    assert bmi(Decimal("70"), Decimal("175")) == Decimal("22.9")
    assert bmi(None, Decimal("175")) is None


def _start(client_for: ClientFor, user: User, patient: Patient) -> str:
    response = client_for(user).post(
        reverse("intake:assessment_list", args=[patient.pk])
    )
    return str(response["Location"])


PAIR = ["psychosis", "breastfeeding"]


def _form(**changes: str) -> dict[str, str]:
    data = {
        "episode_months": "30", "severity": "severe", "bp_systolic": "128",
        "bp_diastolic": "82", "heart_rate": "72", "weight_kg": "70", "height_cm": "175",
        "decision": "eligible", "rationale": "TRD after two adequate SSRIs",
        "trials-TOTAL_FORMS": "2", "trials-INITIAL_FORMS": "0",
        "trials-MIN_NUM_FORMS": "0", "trials-MAX_NUM_FORMS": "1000",
        "trials-0-drug": "Sertraline", "trials-0-dose": "200 mg",
        "trials-0-duration_weeks": "8", "trials-0-adequate": "on",
        "trials-0-outcome": "no_response",
        "trials-1-drug": "Escitalopram", "trials-1-dose": "20 mg",
        "trials-1-duration_weeks": "8", "trials-1-adequate": "on",
        "trials-1-outcome": "partial",
    }  # fmt: skip
    data.update(changes)
    draft = EligibilityAssessment.objects.first()
    if draft is not None and "loaded_at" not in changes:
        data["loaded_at"] = draft.updated_at.isoformat()
    return data


@pytest.mark.django_db
def test_a_physician_documents_and_signs_an_eligible_decision(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, physician, patient_a)
    client = client_for(physician)
    client.post(url, _form())
    page = client.get(url).content.decode()
    assert "<strong>treatment-resistant</strong>" in page
    # 30 months (3) + severe (4) + two failed trials (1), no augmentation or ECT.
    assert "<strong>8</strong> of 15, moderate" in page
    signed = client.post(url, _form(sign="1"), follow=True)
    assert "Assessment signed. It is now read-only." in signed.content.decode()
    assessment = EligibilityAssessment.objects.get()
    assert (assessment.signed_by, assessment.decision) == (physician, "eligible")
    assessment.rationale = "changed"
    with pytest.raises(PermissionError):
        assessment.save()
    again = client.get(url)
    assert again.status_code == 302  # the edit page now sends to the read-only view
    assert AuditEvent.objects.filter(
        patient=patient_a, summary="Signed the eligibility assessment: Eligible"
    ).exists()


@pytest.mark.django_db
def test_eligible_is_blocked_by_a_contraindication_until_an_override_reason(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, physician, patient_a)
    client = client_for(physician)
    blocked = client.post(
        url, _form(contraindications="aneurysm", sign="1"), follow=True
    ).content.decode()
    assert "needs a reason to proceed despite" in blocked
    assert EligibilityAssessment.objects.get().signed_at is None
    client.post(
        url,
        _form(
            contraindications="aneurysm",
            sign="1",
            override_reason="Small stable aneurysm; neurosurgery agrees",
        ),
    )
    assert EligibilityAssessment.objects.get().signed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bp_diastolic": "140", "bp_systolic": "120"}, "Diastolic must be lower"),
        ({"heart_rate": "400"}, "Enter a value from 20 to 250."),
        ({"trials-0-outcome": "cured"}, "Select a valid choice."),
    ],
)
def test_bad_values_are_explained(
    client_for: ClientFor, physician: User, patient_a: Patient,
    changes: dict[str, str], message: str,
) -> None:  # fmt: skip
    url = _start(client_for, physician, patient_a)
    response = client_for(physician).post(url, _form(**changes))
    assert message in response.content.decode()


@pytest.mark.django_db
def test_only_a_physician_signs_and_addenda_follow_signing(
    client_for: ClientFor, nurse: User, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, nurse, patient_a)
    refused = client_for(nurse).post(url, _form(sign="1"), follow=True).content.decode()
    assert "Only a physician signs" in refused
    assessment = EligibilityAssessment.objects.get()
    addendum_url = reverse(
        "intake:assessment_addendum", args=[patient_a.pk, assessment.pk]
    )
    early = client_for(nurse).post(addendum_url, {"text": "x"}, follow=True)
    assert "addenda are for signed assessments" in early.content.decode()
    client_for(physician).post(url, _form(sign="1"))
    client_for(nurse).post(addendum_url, {"text": "BP rechecked: 124/80"})
    detail = (
        client_for(nurse)
        .get(reverse("intake:assessment_detail", args=[patient_a.pk, assessment.pk]))
        .content.decode()
    )
    assert "BP rechecked: 124/80" in detail


@pytest.mark.django_db
def test_a_draft_saved_meanwhile_is_not_overwritten(
    client_for: ClientFor, nurse: User, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, nurse, patient_a)
    opened = EligibilityAssessment.objects.get().updated_at.isoformat()
    client_for(physician).post(url, _form(rationale="Physician's version"))
    nurse_client = client_for(nurse)
    two_ticks = {**_form(rationale="Nurse's", loaded_at=opened), "precautions": PAIR}
    late = nurse_client.post(url, two_ticks)
    body = late.content.decode()
    assert (
        f"{physician.display_name} saved this draft while you were editing it" in body
    )
    assert "Nurse&#x27;s" in body  # the nurse's entries are kept, every tick too
    for code in PAIR:
        assert re.search(rf'value="{code}"[^>]*checked', body), code
    assert EligibilityAssessment.objects.get().rationale == "Physician's version"
    # the form now carries the current version: saving again (after comparing) works
    current = re.search(r'name="loaded_at" value="([^"]+)"', body)
    assert current is not None and current.group(1) != opened
    nurse_client.post(
        url, _form(rationale="Nurse's", loaded_at=html.unescape(current.group(1)))
    )
    assert EligibilityAssessment.objects.get().rationale == "Nurse's"


@pytest.mark.django_db
def test_a_save_after_signing_says_it_was_not_saved(
    client_for: ClientFor, nurse: User, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, nurse, patient_a)
    opened = EligibilityAssessment.objects.get().updated_at.isoformat()
    client_for(physician).post(url, _form(sign="1"))
    late = client_for(nurse).post(
        url, _form(rationale="Late", loaded_at=opened), follow=True
    )
    assert "signed before your changes were saved" in late.content.decode()
    assert EligibilityAssessment.objects.get().rationale != "Late"


@pytest.mark.django_db
def test_a_signed_record_keeps_its_summary_and_trials(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    url = _start(client_for, physician, patient_a)
    client_for(physician).post(url, _form(sign="1"))
    assessment = EligibilityAssessment.objects.get()
    assert assessment.signed_summary["msm"] == {"total": 8, "band": "moderate"}
    assert assessment.signed_summary["trd"] is True
    trial = assessment.trials.first()
    assert trial is not None
    with pytest.raises(PermissionError):
        trial.delete()
    with pytest.raises(PermissionError):
        trial.save()
