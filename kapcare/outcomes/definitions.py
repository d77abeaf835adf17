"""What each outcome on the clinic dashboard means, and the arithmetic behind its
confidence interval (pure Python, no Django imports).

Thresholds are those of kapcare/measures/outcomes.py, which cites
../shared/clinical/clinical-rules.md ("the reference") §3, §6 and §7. A metric an
instrument has no cited definition for is shown as not defined, never guessed.
"""

import math
from dataclasses import dataclass

from scipy.stats import t as student_t

from kapcare.measures.outcomes import MADRS_REMISSION, RULES

DASHBOARD_INSTRUMENTS = ("phq9", "gad7", "pcl5", "madrs")
BASELINE_WINDOW_DAYS = 30


@dataclass(frozen=True)
class InstrumentDefinitions:
    """The cited rules for one instrument; None where the reference has none."""

    code: str
    response: str | None
    response_percent: bool
    response_points: int | None
    remission: str | None
    remission_limit: int | None
    remission_strict: bool
    esketamine_remission_limit: int | None
    reliable_change: int | None
    caseness_from: int | None

    @property
    def reliable_improvement_text(self) -> str | None:
        if self.reliable_change is None:
            return None
        return f"A decrease of ≥ {self.reliable_change} points (clinical rules §7)"

    @property
    def reliable_deterioration_text(self) -> str | None:
        if self.reliable_change is None:
            return None
        return f"An increase of ≥ {self.reliable_change} points (clinical rules §7; provisional)"

    @property
    def recovery_text(self) -> str | None:
        if self.caseness_from is None:
            return None
        return (
            f"A case at baseline (≥ {self.caseness_from}) and not at the latest score, "
            "among courses with at least 2 doses by then (a finished course); NHS "
            "Talking Therapies, this measure alone (clinical rules §7)"
        )

    @property
    def reliable_recovery_text(self) -> str | None:
        if self.caseness_from is None or self.reliable_change is None:
            return None
        return "Recovery and reliable improvement (clinical rules §7; exact wording not retrieved: provisional)"


def definitions_for(code: str) -> InstrumentDefinitions:
    rules = RULES[code]
    response = None
    if rules.has_percent_response:
        response = (
            "≥ 50% reduction from baseline, among courses with a baseline above 0 "
            "(clinical rules §6)"
        )
    elif rules.response_points is not None:
        response = (
            f"≥ {rules.response_points}-point reduction from baseline (clinical rules §3; "
            "secondary source, provisional)"
        )
    remission = rules.remission
    esketamine = MADRS_REMISSION["esketamine"].limit if code == "madrs" else None
    remission_text = None
    if code == "madrs":
        remission_text = (
            f"{MADRS_REMISSION['ketamine'].definition}; {MADRS_REMISSION['esketamine'].definition} "
            "for esketamine courses"
        )
    elif remission is not None:
        remission_text = remission.definition
    return InstrumentDefinitions(
        code=code,
        response=response,
        response_percent=rules.has_percent_response,
        response_points=rules.response_points,
        remission=remission_text,
        remission_limit=remission.limit if remission is not None else None,
        remission_strict=remission.is_strict if remission is not None else False,
        esketamine_remission_limit=esketamine,
        reliable_change=rules.reliable_change,
        caseness_from=rules.caseness_from,
    )


@dataclass(frozen=True)
class MeanInterval:
    n: int
    mean: float | None
    low: float | None
    high: float | None


def mean_with_ci(n: int, total: float, total_of_squares: float) -> MeanInterval:
    """Mean and two-sided 95% confidence interval from n, Σx and Σx² (Student's t
    with n - 1 degrees of freedom: mean ± t₀.₉₇₅ · s/√n, s² = (Σx² - n·mean²)/(n - 1);
    Student 1908, Biometrika 6:1). No interval for fewer than two values."""
    if n == 0:
        return MeanInterval(0, None, None, None)
    mean = total / n
    if n < 2:
        return MeanInterval(n, mean, None, None)
    variance = max(0.0, (total_of_squares - n * mean * mean) / (n - 1))
    half = float(student_t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return MeanInterval(n, mean, mean - half, mean + half)


def percent(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else 100.0 * numerator / denominator
