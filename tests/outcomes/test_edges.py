"""The dashboard's counts at the exact thresholds of the cited PHQ-9 definitions
(clinical rules §6, §7: response ≥ 50% reduction, remission < 5, reliable change
6 points, caseness from 10) and at the clinic's midnights (America/Toronto)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from kapcare.accounts.models import User
from kapcare.outcomes import services
from kapcare.outcomes.services import CohortFilters
from tests.factories import PatientFactory
from tests.outcomes.conftest import _course, _session, score

pytestmark = pytest.mark.django_db
FIRST_DOSE = datetime(2026, 3, 2, 15, tzinfo=UTC)
PERIOD = CohortFilters(starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))


def _paired(physician: User, nurse: User, baseline: int, latest: int) -> None:
    """A course with two doses, a baseline the day before the first and a latest
    score a month after."""
    patient = PatientFactory.create()
    course = _course(patient, physician, FIRST_DOSE)
    _session(course, 1, FIRST_DOSE, nurse)
    _session(course, 2, FIRST_DOSE + timedelta(days=3), nurse)
    score(patient, "phq9", baseline, FIRST_DOSE - timedelta(days=1))
    score(patient, "phq9", latest, FIRST_DOSE + timedelta(days=30))


def test_counts_at_the_exact_thresholds(physician: User, nurse: User) -> None:
    pairs = [
        (10, 5),  # exactly 50% down: response; 5 is not < 5; change 5 < 6; recovered
        (11, 6),  # 45% down: no response; change 5
        (12, 6),  # exactly 50% and exactly 6 points: response, reliable, recovered
        (9, 4),  # not a case at baseline; 4 < 5 remission; 4 <= 4.5 response
        (4, 10),  # up exactly 6: reliable deterioration, not a case at baseline
        (10, 10),  # a case at both: not recovered
        (0, 0),  # baseline 0: not in the response denominator
    ]
    for baseline, latest in pairs:
        _paired(physician, nurse, baseline, latest)
    phq9 = services.instrument_outcome(PERIOD, "phq9")
    assert phq9.n == 7
    rates = {name: (r.count, r.of) for name, r in phq9.rates.items() if r}
    assert rates == {
        "response": (3, 6),  # 10->5, 12->6, 9->4, out of those with baseline > 0
        "remission": (2, 7),  # 4 and 0
        "reliable_improvement": (1, 7),  # only 12->6
        "reliable_deterioration": (1, 7),  # 4->10
        # cases at baseline (>= 10): 10->5, 11->6, 12->6, 10->10; below 10 after: 3
        "recovery": (3, 4),
        "reliable_recovery": (1, 4),  # of those, only 12->6 fell by >= 6
    }


def test_a_score_just_before_the_clinics_midnight_counts_in_the_period(
    physician: User, nurse: User
) -> None:
    """23:30 on 30 June in Toronto is 03:30 UTC on 1 July: still in the period; a
    score at 00:30 on 1 July in Toronto is not."""
    inside, outside = PatientFactory.create(), PatientFactory.create()
    for patient, latest_at, latest in (
        (inside, datetime(2026, 7, 1, 3, 30, tzinfo=UTC), 4),
        (outside, datetime(2026, 7, 1, 4, 30, tzinfo=UTC), 4),
    ):
        course = _course(patient, physician, FIRST_DOSE)
        _session(course, 1, FIRST_DOSE, nurse)
        score(patient, "phq9", 20, FIRST_DOSE - timedelta(days=1))
        score(patient, "phq9", 18, FIRST_DOSE + timedelta(days=10))
        score(patient, "phq9", latest, latest_at)
    phq9 = services.instrument_outcome(PERIOD, "phq9")
    assert phq9.n == 2
    assert phq9.latest.mean == pytest.approx((4 + 18) / 2)


def test_a_course_ending_counts_scores_to_the_end_of_its_last_local_day(
    physician: User, nurse: User
) -> None:
    """A course that ended on 10 April: its score at 23:30 Toronto time that day
    (03:30 UTC on the 11th) is its latest; one the next local morning is not."""
    patient = PatientFactory.create()
    course = _course(patient, physician, FIRST_DOSE, ended_on=date(2026, 4, 10))
    _session(course, 1, FIRST_DOSE, nurse)
    score(patient, "phq9", 20, FIRST_DOSE - timedelta(days=1))
    score(patient, "phq9", 8, datetime(2026, 4, 11, 3, 30, tzinfo=UTC))
    score(patient, "phq9", 25, datetime(2026, 4, 11, 13, 0, tzinfo=UTC))
    phq9 = services.instrument_outcome(PERIOD, "phq9")
    assert (phq9.n, phq9.latest.mean) == (1, 8)


def test_the_baseline_window_is_30_days_up_to_the_first_dose(
    physician: User, nurse: User
) -> None:
    """Baseline: a score in the 30 days up to the first dose. Exactly 30 days before
    counts; 30 days and a minute does not."""
    kept, dropped = PatientFactory.create(), PatientFactory.create()
    for patient, before in (
        (kept, timedelta(days=30)),
        (dropped, timedelta(days=30, minutes=1)),
    ):
        course = _course(patient, physician, FIRST_DOSE)
        _session(course, 1, FIRST_DOSE, nurse)
        score(patient, "phq9", 20, FIRST_DOSE - before)
        score(patient, "phq9", 10, FIRST_DOSE + timedelta(days=20))
    phq9 = services.instrument_outcome(PERIOD, "phq9")
    assert phq9.n == 1
