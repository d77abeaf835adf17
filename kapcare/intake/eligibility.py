"""Eligibility for ketamine: TRD from the trial history, the Maudsley Staging Method,
contraindications, BMI (pure Python, no Django imports).

Sources, /work/shared/clinical/clinical-rules.md:
- TRD: no response to at least two antidepressants of adequate dose and duration in
  the current episode (§8, Fava 2018; SUSTAIN-3) [V]. A trial counts as failed when
  it was adequate and the outcome was no response or a partial response (< 50 %);
  a trial stopped for intolerance is not an adequate failed trial. ATHF-SF2
  adequacy criteria are not in the reference (NF), so the physician marks adequacy.
- MSM dimensions and scores (§8, Fekadu 2018 Table 3 [V]; treatment-failure levels
  [S]): duration <= 12 months 1, 13-24 months 2, > 24 months 3; severity 1-5;
  failed antidepressants 1-2 -> 1, 3-4 -> 2, 5-6 -> 3, 7-10 -> 4, > 10 -> 5 (no level
  for 0: MSM undefined); augmentation 0/1; ECT 0/1. Total and band come from the
  measures engine (`msm`: mild 3-6, moderate 7-10, severe 11-15).
- Contraindications: the esketamine label list (§9 [V]); precautions the same
  section's list (§9 [V]).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kapcare.measures.scoring import Score, score

SEVERITY = (
    ("subsyndromal", "Subsyndromal", 1),
    ("mild", "Mild", 2),
    ("moderate", "Moderate", 3),
    ("severe", "Severe without psychosis", 4),
    ("severe_psychotic", "Severe with psychosis", 5),
)
CONTRAINDICATIONS = (
    ("aneurysm", "Aneurysmal vascular disease or arteriovenous malformation"),
    ("intracerebral_haemorrhage", "History of intracerebral haemorrhage"),
    ("hypersensitivity", "Hypersensitivity to esketamine, ketamine or an excipient"),
)
PRECAUTIONS = (
    ("psychosis", "Psychosis"),
    ("substance_use", "Substance use disorder"),
    ("pregnancy", "Pregnancy"),
    ("breastfeeding", "Breastfeeding"),
    ("hypertension", "Uncontrolled hypertension"),
    ("interactions", "CNS depressants, psychostimulants or MAOIs"),
)
FAILED_OUTCOMES = frozenset({"no_response", "partial"})
TRD_MINIMUM = 2


@dataclass(frozen=True)
class Trial:
    adequate: bool
    outcome: str


def adequate_failed_trials(trials: Sequence[Trial]) -> int:
    return sum(1 for t in trials if t.adequate and t.outcome in FAILED_OUTCOMES)


def is_trd(trials: Sequence[Trial]) -> bool:
    return adequate_failed_trials(trials) >= TRD_MINIMUM


def duration_score(months: int) -> int:
    if months < 0:
        raise ValueError("The episode duration cannot be negative.")
    if months <= 12:
        return 1
    return 2 if months <= 24 else 3


def failures_score(failed: int) -> int | None:
    """None for 0 failed antidepressants: the table has no level for it."""
    if failed <= 0:
        return None
    for upper, value in ((2, 1), (4, 2), (6, 3), (10, 4)):
        if failed <= upper:
            return value
    return 5


def severity_score(severity: str) -> int:
    for code, _, value in SEVERITY:
        if code == severity:
            return value
    raise ValueError(f"Unknown severity {severity!r}")


def maudsley(
    *, months: int, severity: str, failed: int, augmentation: bool, ect: bool
) -> Score | None:
    """The MSM total and band through the measures engine, or None when undefined."""
    failures = failures_score(failed)
    if failures is None:
        return None
    answers = [
        duration_score(months), severity_score(severity), failures,
        int(augmentation), int(ect),
    ]  # fmt: skip
    return score("msm", answers)


def bmi(weight_kg: Decimal | None, height_cm: Decimal | None) -> Decimal | None:
    """Weight / height squared, one decimal; None without both."""
    if not weight_kg or not height_cm:
        return None
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
