"""The dashboard's numbers on the hand-built cohort (tests/outcomes/conftest.py),
each worked out by hand from the cited definitions, not from the code."""

from dataclasses import replace
from datetime import date

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.outcomes import services
from kapcare.outcomes.services import CohortFilters
from tests.conftest import ClientFor
from tests.outcomes.conftest import PERIOD, Cohort

pytestmark = pytest.mark.django_db

T_975_2 = 4.302653  # Student's t, 97.5th centile, 2 degrees of freedom (tables)


def outcome(filters: CohortFilters, code: str) -> services.InstrumentOutcome:
    return services.instrument_outcome(filters, code)


def test_phq9_on_the_hand_built_cohort(hand_built: Cohort) -> None:
    """Paired courses: A 20 -> 8, B 12 -> 4 (its 27 came after its course ended),
    C 9 -> 16. D's baseline is 45 days old, F's only later score is in error or
    after the period, E started after it."""
    phq9 = outcome(PERIOD, "phq9")
    assert phq9.n == 3
    assert phq9.baseline.mean == pytest.approx(41 / 3)
    assert phq9.latest.mean == pytest.approx(28 / 3)
    assert phq9.change.mean == pytest.approx(-13 / 3)
    # changes -12, -8, +7: s² = (257 - 169/3) / 2 = 100.333; half = t · s/√3
    half = T_975_2 * (100.333333 / 3) ** 0.5
    assert phq9.change.low == pytest.approx(-13 / 3 - half, abs=1e-3)
    assert phq9.change.high == pytest.approx(-13 / 3 + half, abs=1e-3)
    rates = {name: (r.count, r.of) for name, r in phq9.rates.items() if r}
    assert rates == {
        "response": (2, 3),  # 8 ≤ 20/2 and 4 ≤ 12/2; 16 > 9/2
        "remission": (1, 3),  # only 4 < 5
        "reliable_improvement": (2, 3),  # drops of 12 and 8 (≥ 6)
        "reliable_deterioration": (1, 3),  # C rose by 7
        # Cases at baseline (≥ 10) with a finished course (≥ 2 doses by the latest
        # score, clinical rules §7): only A; B had one dose. A ended below 10.
        "recovery": (1, 1),
        "reliable_recovery": (1, 1),
    }
    # A first met response on 1 April (31 days), B on 15 March (14 days)
    assert phq9.reached_response == 2
    assert phq9.median_days_to_response == pytest.approx(22.5)


def test_gad7_has_no_response_or_remission_definition(hand_built: Cohort) -> None:
    gad7 = outcome(PERIOD, "gad7")
    assert gad7.n == 1 and gad7.baseline.mean == 12 and gad7.baseline.low is None
    assert gad7.rates["response"] is None and gad7.rates["remission"] is None
    ri = gad7.rates["reliable_improvement"]
    recovery = gad7.rates["recovery"]
    assert ri is not None and (ri.count, ri.of) == (1, 1)  # 12 -> 7: 5 ≥ 4
    assert recovery is not None and (recovery.count, recovery.of) == (1, 1)  # 7 < 8
    assert gad7.median_days_to_response is None


def test_madrs_remission_depends_on_the_programme(hand_built: Cohort) -> None:
    """Both 30 -> 12: remission in the esketamine course (≤ 12), not in the
    ketamine one (≤ 10); both responded 28 days after the first dose."""
    madrs = outcome(PERIOD, "madrs")
    remission, response = madrs.rates["remission"], madrs.rates["response"]
    assert madrs.n == 2
    assert remission is not None and (remission.count, remission.of) == (1, 2)
    assert response is not None and (response.count, response.of) == (2, 2)
    assert madrs.median_days_to_response == pytest.approx(28)
    assert madrs.rates["reliable_improvement"] is None  # no cited MADRS RCI


def test_the_funnel(hand_built: Cohort) -> None:
    steps = {step.label: step.count for step in services.funnel(PERIOD)}
    assert steps == {
        "Consultation requests": 3,
        "Assessed": 2,
        "Eligible": 1,
        "Started": 7,  # A, B, C, D, F, G, H
        "Completed induction": 1,
        "Maintenance": 1,
    }


def test_safety(hand_built: Cohort) -> None:
    summary = services.safety(PERIOD)
    assert summary.sessions == 5
    events = {
        (e.kind, e.severity): (e.count, e.per_100_sessions) for e in summary.events
    }
    assert events == {
        ("Nausea / vomiting", "Mild"): (2, 40.0),
        ("Hypertension", "Moderate"): (1, 20.0),
    }
    assert summary.sessions_out_of_range == 1  # systolic 150 > 140
    assert (summary.alerts_opened, summary.alerts_acknowledged) == (3, 2)
    assert summary.median_minutes_to_acknowledge == pytest.approx(60)  # 30 and 90


@pytest.mark.parametrize(
    ("change", "courses", "phq9_n"),
    [
        ({"sex": "male"}, 2, 1),
        ({"age_band": "35-44"}, 2, 2),
        ({"age_band": "65+"}, 2, 1),
        ({"route": "nasal"}, 1, 0),
        ({"phase": "maintenance"}, 1, 0),
        ({"indication": "ptsd"}, 0, 0),
    ],
)
def test_filters_narrow_the_cohort(
    hand_built: Cohort, change: dict[str, str], courses: int, phq9_n: int
) -> None:
    filters = replace(PERIOD, **change)  # type: ignore[arg-type]
    assert services.cohort(filters).count() == courses
    assert outcome(filters, "phq9").n == phq9_n


def test_the_clinician_filter(hand_built: Cohort, physician: User) -> None:
    assert services.cohort(replace(PERIOD, clinician_id=physician.pk)).count() == 8
    other = User.objects.exclude(pk=physician.pk).first()
    assert other is not None
    assert services.cohort(replace(PERIOD, clinician_id=other.pk)).count() == 0


def test_an_empty_cohort_gives_zeros_not_errors(hand_built: Cohort) -> None:
    empty = CohortFilters(starts_on=date(2020, 1, 1), ends_on=date(2020, 12, 31))
    result = services.dashboard(empty)
    assert result.courses == 0
    assert all(o.n == 0 and o.change.mean is None for o in result.instruments)
    assert (
        result.safety.sessions == 0
        and result.safety.median_minutes_to_acknowledge is None
    )


def test_the_page_shows_the_numbers_and_definitions_and_is_audited(
    hand_built: Cohort, client_for: ClientFor, physician: User,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    client = client_for(physician)
    url = reverse("outcomes:dashboard")
    query = {"starts_on": "2026-01-01", "ends_on": "2026-06-30"}
    # Sign-in and permissions, the audit write, then a fixed set per instrument
    # (outcomes, and the by-dose series when paired), the funnel and safety:
    # about 41 however large the cohort.
    with django_assert_max_num_queries(45):  # type: ignore[operator]
        response = client.get(url, query)
    body = response.content.decode()
    assert response.status_code == 200
    assert "8</strong> patient-courses" in body
    assert "2 of 3 (66.7%)" in body  # PHQ-9 response
    assert "22.5 days" in body
    assert "≥ 50% reduction from baseline" in body and "PHQ-9 &lt; 5" in body
    assert "No course in the cohort has both a baseline and a later PCL-5" in body
    event = AuditEvent.objects.filter(object_type="outcome_dashboard").get()
    assert event.actor == physician and event.patient_id is None
    assert event.detail["starts_on"] == "2026-01-01"


def test_bad_filters_re_render_with_a_message(
    client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).get(
        reverse("outcomes:dashboard"),
        {"starts_on": "2026-06-30", "ends_on": "2026-01-01", "sex": "robot"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "The period ends before it starts." in body
    assert "Select a valid choice" in body


@pytest.mark.parametrize("role", ["nurse", "therapist", "front_desk"])
def test_only_physicians_and_the_clinic_admin_see_it(
    client_for: ClientFor, request: pytest.FixtureRequest, role: str, clinic_admin: User
) -> None:
    url = reverse("outcomes:dashboard")
    assert client_for(request.getfixturevalue(role)).get(url).status_code == 403
    assert client_for(clinic_admin).get(url).status_code == 200


def test_mean_by_number_of_doses(hand_built: Cohort) -> None:
    """Before the first dose: A 20, B 12, C 9. After one dose: B 4 (15 March), C 16
    (1 May). After two: A's last score, 8 (A had two doses before 10 March)."""
    means = [
        (p.session, p.n, round(p.mean, 3)) for p in outcome(PERIOD, "phq9").by_session
    ]
    assert means == [(0, 3, 13.667), (1, 2, 10.0), (2, 1, 8.0)]


def test_distribution_of_change(hand_built: Cohort) -> None:
    """Changes -12, -8 and +7 in 3-point bins from -27."""
    phq9 = outcome(PERIOD, "phq9")
    filled = {(b.low, b.high): b.count for b in phq9.change_bins if b.count}
    assert filled == {(-12, -9): 1, (-9, -6): 1, (6, 9): 1}
    assert phq9.change_bins[0].low == -27 and phq9.change_bins[-1].low == 27


def test_the_charts_are_accessible_svg(hand_built: Cohort) -> None:
    result = services.dashboard(PERIOD, instruments=["phq9"])
    [phq9] = result.instruments
    assert 'role="img"' in phq9.session_chart and "<title" in phq9.session_chart
    assert "Mean PHQ-9 13.7 before the first dose (n=3)" in phq9.session_chart
    assert "3 courses; 2 improved (a change below 0" in phq9.change_chart


@pytest.mark.parametrize(
    "query",
    [
        {"starts_on": "9999-12-30", "ends_on": "9999-12-31"},
        {"starts_on": "0010-01-01", "ends_on": "0010-06-30", "age_band": "18-24"},
        {"starts_on": "2026-01-01", "ends_on": "2026-06-30", "clinician": "not-a-uuid"},
    ],
)
def test_extreme_or_odd_filters_are_refused_not_crashed(
    client_for: ClientFor, physician: User, query: dict[str, str]
) -> None:
    response = client_for(physician).get(reverse("outcomes:dashboard"), query)
    assert response.status_code == 400
