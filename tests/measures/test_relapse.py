"""Relapse early warning at its exact thresholds, and the alert it raises."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.models import MeasureSummary
from kapcare.measures.relapse import (
    DETERIORATED,
    LOST_RESPONSE,
    Total,
    relapse_warning,
)
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.website.models import get_clinic_profile


def _totals(*values: float) -> list[Total]:
    return [
        Total(dt.date(2026, 1, 1) + dt.timedelta(weeks=i), v)
        for i, v in enumerate(values)
    ]


def test_phq9_reliable_deterioration_of_exactly_six_points_fires() -> None:
    # Baseline 12, response at 6 (exactly 50 %), best 4; then 10 and 10: 6 points
    # above the best, and no longer a response (10 > 6).
    warning = relapse_warning("phq9", _totals(12, 6, 4, 10, 10))
    assert warning is not None
    assert warning.rules == (DETERIORATED, LOST_RESPONSE)
    assert (warning.baseline, warning.best_since_response) == (12, 4)
    assert warning.responded_on == dt.date(2026, 1, 8)


def test_five_points_up_while_still_responding_does_not_fire() -> None:
    # Baseline 20, best 2; 7 and 7 are 5 points up (< 6) and still <= 10 (response).
    assert relapse_warning("phq9", _totals(20, 8, 2, 7, 7)) is None


def test_exactly_fifty_percent_is_still_a_response() -> None:
    # Baseline 20: 10 is exactly 50 % and keeps response; 11 loses it.
    assert relapse_warning("phq9", _totals(20, 6, 10, 10)) is None
    warning = relapse_warning("phq9", _totals(20, 6, 11, 11))
    assert warning is not None
    assert warning.rules == (LOST_RESPONSE,)


def test_one_bad_measure_is_not_enough_by_default() -> None:
    assert relapse_warning("phq9", _totals(20, 6, 6, 14)) is None
    assert relapse_warning("phq9", _totals(20, 6, 6, 14, 6)) is None
    assert relapse_warning("phq9", _totals(20, 6, 6, 14), consecutive=1) is not None
    assert relapse_warning("phq9", _totals(20, 6, 14, 14), consecutive=3) is None


def test_non_responders_and_instruments_without_a_response_rule_never_fire() -> None:
    assert relapse_warning("phq9", _totals(20, 15, 19, 20)) is None
    assert relapse_warning("gad7", _totals(18, 3, 15, 16)) is None
    assert relapse_warning("qids_sr16", _totals(20, 4, 16, 18)) is None


def test_madrs_uses_lost_response_only() -> None:
    warning = relapse_warning("madrs", _totals(30, 12, 16, 22))
    assert warning is not None
    assert warning.rules == (LOST_RESPONSE,)
    assert warning.describe("MADRS").startswith("MADRS: possible relapse")


@pytest.mark.django_db
class TestTheAlert:
    def _submit(self, patient: Patient, nurse: User, totals: list[int]) -> None:
        start = timezone.now() - dt.timedelta(weeks=len(totals))
        for week, total in enumerate(totals):
            answers = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
            assert sum(answers) == total
            submit_questionnaire_response(
                request=None, patient=patient, instrument="phq9", answers=answers,
                source="paper", submission_key=uuid.uuid4().hex, entered_by=nurse,
                authored_at=start + dt.timedelta(weeks=week),
            )  # fmt: skip

    def test_two_bad_measures_after_response_raise_one_moderate_alert(
        self, patient_a: Patient, nurse: User
    ) -> None:
        self._submit(patient_a, nurse, [20, 8, 5, 12])
        assert not SafetyAlert.objects.exists()
        self._submit(patient_a, nurse, [13])
        alert = SafetyAlert.objects.get()
        assert (alert.level, alert.trigger) == ("moderate", "relapse")
        assert "possible relapse" in alert.reason
        assert "booster consultation" in alert.reason
        assert alert.evidence["best_since_response"] == 5
        assert alert.evidence["recent"][-1][1] == 13
        self._submit(patient_a, nurse, [15])
        assert SafetyAlert.objects.count() == 1  # one alert per response episode

    def test_the_clinic_can_turn_it_off_or_ask_for_more_measures(
        self, patient_a: Patient, patient_b: Patient, nurse: User
    ) -> None:
        profile = get_clinic_profile()
        profile.relapse_warning_enabled = False
        profile.save()
        self._submit(patient_a, nurse, [20, 8, 5, 12, 13])
        assert not SafetyAlert.objects.exists()
        profile.relapse_warning_enabled = True
        profile.relapse_consecutive_measures = 3
        profile.save()
        self._submit(patient_b, nurse, [20, 8, 5, 12, 13])
        assert not SafetyAlert.objects.exists()
        self._submit(patient_b, nurse, [14])
        assert SafetyAlert.objects.filter(patient=patient_b).count() == 1

    def test_the_summary_row_follows_each_response(
        self, patient_a: Patient, nurse: User
    ) -> None:
        self._submit(patient_a, nurse, [20, 8])
        summary = MeasureSummary.objects.get(patient=patient_a, instrument="phq9")
        assert (summary.count, summary.baseline_total, summary.latest_total) == (
            2,
            20,
            8,
        )
        assert (summary.response, summary.remission, summary.trend) == (
            True,
            False,
            "down",
        )
        assert summary.percent_change == -60
        assert summary.latest_band == "mild"
