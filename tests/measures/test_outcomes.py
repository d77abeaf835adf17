"""Outcome definitions at their boundaries (clinical-rules.md §6 and §7)."""

import math

import pytest

from kapcare.measures.outcomes import (
    OutcomeError,
    is_reliable_change,
    outcome,
    reliable_change_index,
    reliable_change_threshold,
    talking_therapies,
)

# Response: >= 50 % reduction (MADRS; PHQ-9 in SUSTAIN-3).


@pytest.mark.parametrize(
    ("baseline", "final", "response"),
    [(20, 10, True), (20, 11, False), (15, 7.5, True), (15, 7, True), (15, 8, False)],
)
def test_phq9_response_at_exactly_half(
    baseline: int, final: float, response: bool
) -> None:
    assert outcome("phq9", baseline=baseline, final=final).response is response


@pytest.mark.parametrize(("final", "response"), [(15, True), (16, False)])
def test_madrs_response_at_exactly_half(final: int, response: bool) -> None:
    assert outcome("madrs", baseline=30, final=final).response is response


def test_it_reports_change_and_percent_change() -> None:
    result = outcome("phq9", baseline=20, final=10)
    assert result.change == -10
    assert result.percent_change == -50.0


def test_a_zero_baseline_has_no_percent_change_or_response() -> None:
    result = outcome("madrs", baseline=0, final=0)
    assert result.percent_change is None
    assert result.response is None


# Remission: PHQ-9 < 5; MADRS <= 10 (ketamine) or <= 12 (esketamine);
# QIDS-SR16 <= 5 (STAR*D, provisional).


@pytest.mark.parametrize(("final", "remission"), [(4, True), (5, False)])
def test_phq9_remission_is_below_five(final: int, remission: bool) -> None:
    result = outcome("phq9", baseline=20, final=final)
    assert result.remission is remission
    assert result.remission_definition is not None
    assert result.remission_definition.startswith("PHQ-9 < 5")


@pytest.mark.parametrize(("final", "remission"), [(10, True), (11, False)])
def test_madrs_remission_in_ketamine_trials(final: int, remission: bool) -> None:
    result = outcome("madrs", baseline=30, final=final)
    assert result.remission is remission
    assert result.remission_definition is not None
    assert result.remission_definition.startswith("MADRS <= 10")


@pytest.mark.parametrize(("final", "remission"), [(12, True), (13, False)])
def test_madrs_remission_in_the_esketamine_programme(
    final: int, remission: bool
) -> None:
    result = outcome("madrs", baseline=30, final=final, programme="esketamine")
    assert result.remission is remission
    assert result.remission_definition is not None
    assert result.remission_definition.startswith("MADRS <= 12")


@pytest.mark.parametrize(("final", "remission"), [(5, True), (6, False)])
def test_qids_remission_at_five(final: int, remission: bool) -> None:
    result = outcome("qids_sr16", baseline=20, final=final)
    assert result.remission is remission
    assert result.response is None


# Reliable change: PHQ-9 6 points, GAD-7 4 points (NCT05134103).


@pytest.mark.parametrize(
    ("code", "baseline", "final", "improved", "deteriorated"),
    [
        ("phq9", 16, 10, True, False),
        ("phq9", 16, 11, False, False),
        ("phq9", 10, 16, False, True),
        ("phq9", 10, 15, False, False),
        ("gad7", 12, 8, True, False),
        ("gad7", 12, 9, False, False),
        ("gad7", 8, 12, False, True),
        ("gad7", 8, 11, False, False),
    ],
)
def test_reliable_change_at_the_threshold(
    code: str, baseline: int, final: int, improved: bool, deteriorated: bool
) -> None:
    result = outcome(code, baseline=baseline, final=final)
    assert result.reliable_improvement is improved
    assert result.reliable_deterioration is deteriorated


@pytest.mark.parametrize(
    ("code", "score", "case"),
    [("phq9", 10, True), ("phq9", 9, False), ("gad7", 8, True), ("gad7", 7, False)],
)
def test_caseness_cut_offs(code: str, score: int, case: bool) -> None:
    result = outcome(code, baseline=score, final=0)
    assert result.caseness_baseline is case


@pytest.mark.parametrize(
    ("baseline", "final", "recovery", "reliable_recovery"),
    [
        (15, 9, True, True),
        (12, 9, True, False),
        (15, 10, False, False),
        (9, 3, None, None),
    ],
    ids=["reliable", "not reliable", "still a case", "not a case at start"],
)
def test_phq9_recovery(
    baseline: int,
    final: int,
    recovery: bool | None,
    reliable_recovery: bool | None,
) -> None:
    result = outcome("phq9", baseline=baseline, final=final)
    assert result.recovery is recovery
    assert result.reliable_recovery is reliable_recovery


# PCL-5: a decrease of 5 points is the minimum for response (provisional).


@pytest.mark.parametrize(("final", "response"), [(35, True), (36, False)])
def test_pcl5_response_is_a_five_point_decrease(final: int, response: bool) -> None:
    result = outcome("pcl5", baseline=40, final=final)
    assert result.response is response
    assert result.remission is None
    assert result.caseness_baseline is None


@pytest.mark.parametrize("code", ["gad7", "msm", "cadss"])
def test_instruments_without_response_or_remission_give_none(code: str) -> None:
    result = outcome(code, baseline=10, final=5)
    assert result.response is None
    assert result.remission is None
    assert result.remission_definition is None
    assert result.change == -5


@pytest.mark.parametrize("code", ["madrs", "qids_sr16", "msm"])
def test_instruments_without_talking_therapies_rules_give_none(code: str) -> None:
    result = outcome(code, baseline=10, final=5)
    assert result.reliable_improvement is None
    assert result.caseness_baseline is None
    assert result.recovery is None


def test_it_refuses_an_instrument_without_a_total() -> None:
    with pytest.raises(OutcomeError, match="C-SSRS screener has no total"):
        outcome("cssrs_screener", baseline=1, final=0)


def test_it_names_a_total_out_of_range() -> None:
    with pytest.raises(OutcomeError, match="PHQ-9 baseline: 28 is outside 0-27"):
        outcome("phq9", baseline=28, final=0)


def test_it_refuses_an_msm_total_below_three() -> None:
    with pytest.raises(OutcomeError, match="MSM final: 2 is outside 3-15"):
        outcome("msm", baseline=10, final=2)


# NHS Talking Therapies: PHQ-9 and GAD-7 together.


def test_talking_therapies_caseness_on_either_measure() -> None:
    result = talking_therapies(baseline=(9, 8), final=(9, 7))
    assert result.caseness_baseline is True
    assert result.caseness_final is False
    assert result.recovery is True


def test_talking_therapies_recovery_needs_both_below_the_cut_offs() -> None:
    result = talking_therapies(baseline=(15, 12), final=(9, 8))
    assert result.recovery is False


def test_talking_therapies_recovery_only_counts_cases_at_the_start() -> None:
    result = talking_therapies(baseline=(9, 7), final=(3, 2))
    assert result.recovery is None
    assert result.reliable_recovery is None


def test_talking_therapies_reliable_recovery() -> None:
    result = talking_therapies(baseline=(15, 12), final=(9, 7))
    assert result.reliable_improvement is True
    assert result.recovery is True
    assert result.reliable_recovery is True
    assert result.change == {"phq9": -6, "gad7": -5}


def test_improvement_on_one_measure_is_enough_if_the_other_holds() -> None:
    result = talking_therapies(baseline=(16, 10), final=(10, 13))
    assert result.reliable_improvement is True
    assert result.reliable_deterioration is False


def test_deterioration_on_the_other_measure_cancels_improvement() -> None:
    result = talking_therapies(baseline=(16, 10), final=(10, 14))
    assert result.reliable_improvement is False
    assert result.reliable_deterioration is False


def test_talking_therapies_reliable_deterioration() -> None:
    result = talking_therapies(baseline=(10, 10), final=(16, 10))
    assert result.reliable_deterioration is True
    assert result.reliable_improvement is False


def test_talking_therapies_checks_each_range() -> None:
    with pytest.raises(OutcomeError, match="GAD-7 final: 22 is outside 0-21"):
        talking_therapies(baseline=(10, 10), final=(10, 22))


# Jacobson-Truax: SE = SD * sqrt(1 - r); S_diff = sqrt(2 SE^2); reliable when
# |RCI| > 1.96. With SD 2 and r 0.75: SE = 1, S_diff = sqrt(2), threshold
# 1.96 * sqrt(2) = 2.7719 points.


def test_the_jacobson_truax_threshold() -> None:
    threshold = reliable_change_threshold(sd=2, reliability=0.75)
    assert threshold == pytest.approx(1.96 * math.sqrt(2))


@pytest.mark.parametrize(("change", "reliable"), [(2.77, False), (2.78, True)])
def test_the_jacobson_truax_index_either_side_of_the_threshold(
    change: float, reliable: bool
) -> None:
    rci = reliable_change_index(baseline=10, final=10 - change, sd=2, reliability=0.75)
    assert rci == pytest.approx(-change / math.sqrt(2))
    assert is_reliable_change(rci) is reliable


def test_an_rci_of_exactly_196_is_not_reliable() -> None:
    assert is_reliable_change(1.96) is False
    assert is_reliable_change(-1.96) is False


def test_the_rci_refuses_an_impossible_reliability() -> None:
    with pytest.raises(OutcomeError, match="reliability"):
        reliable_change_threshold(sd=2, reliability=1)
