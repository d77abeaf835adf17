"""Relapse early warning for patients who responded (pure Python, no Django imports).

Issue 4's rule, built only from definitions in /work/shared/clinical/clinical-rules.md
(via `outcomes.outcome`, which cites them):
- A patient *responded* on an instrument once a total met its response definition
  against the baseline (first) total: >= 50 % reduction on PHQ-9 and MADRS (§6 [V]);
  a drop of >= 5 points on PCL-5 (§3 [S, provisional]). Instruments without a
  response definition (GAD-7, QIDS-SR16, CADSS, MSM) never trigger this rule.
- A later total *meets the relapse rule* when it shows reliable deterioration from
  the best (lowest) total since the response (PHQ-9 >= 6 points, §7 [R,
  provisional]; no other instrument has a reliable-change value), or no longer
  meets the response definition against the baseline.
- "Possible relapse" fires when the last N totals in a row (the clinic's setting,
  default 2, the issue's "two consecutive measures") meet the rule.

For comparison only, not used: SUSTAIN-1 defines relapse as MADRS >= 22 on two
consecutive assessments 5-15 days apart (§6, tagged [R]: methods not retrieved).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kapcare.measures.outcomes import outcome

LOST_RESPONSE = "no longer meets the response definition against baseline"
DETERIORATED = "reliable deterioration from the best score since response"


@dataclass(frozen=True)
class Total:
    on: date
    value: float


@dataclass(frozen=True)
class RelapseWarning:
    instrument: str
    baseline: float
    responded_on: date
    best_since_response: float
    recent: tuple[Total, ...]
    rules: tuple[str, ...]

    @property
    def episode_key(self) -> str:
        """Names the response episode, so one warning is raised per episode."""
        return f"{self.instrument}:{self.responded_on.isoformat()}"

    def describe(self, name: str) -> str:
        values = ", ".join(f"{t.value:g} on {t.on.isoformat()}" for t in self.recent)
        return (
            f"{name}: possible relapse ({'; '.join(self.rules)}): {values}; "
            f"baseline {self.baseline:g}, best since response {self.best_since_response:g}"
        )


def _responds(code: str, baseline: float, total: float) -> bool | None:
    return outcome(code, baseline=baseline, final=total).response


def _rules_met(code: str, baseline: float, best: float, total: float) -> list[str]:
    rules = []
    if outcome(code, baseline=best, final=total).reliable_deterioration:
        rules.append(DETERIORATED)
    if _responds(code, baseline, total) is False:
        rules.append(LOST_RESPONSE)
    return rules


def relapse_warning(
    code: str, totals: Sequence[Total], *, consecutive: int = 2
) -> RelapseWarning | None:
    """The warning the latest totals call for, or None. `totals` oldest first."""
    if consecutive < 1 or len(totals) < consecutive + 1:
        return None
    baseline = totals[0].value
    if _responds(code, baseline, baseline) is None:
        return None  # no response definition for this instrument
    tail_start = len(totals) - consecutive
    # The response episode: the last responding total before the trailing run.
    last_response = None
    for index in range(tail_start - 1, 0, -1):
        if _responds(code, baseline, totals[index].value):
            last_response = index
            break
    if last_response is None:
        return None
    first_response = last_response
    while first_response - 1 > 0 and _responds(
        code, baseline, totals[first_response - 1].value
    ):
        first_response -= 1
    fired: list[str] = []
    for index in range(tail_start, len(totals)):
        best = min(t.value for t in totals[first_response:index])
        met = _rules_met(code, baseline, best, totals[index].value)
        if not met:
            return None
        fired = met
    best = min(t.value for t in totals[first_response:tail_start])
    return RelapseWarning(
        instrument=code,
        baseline=baseline,
        responded_on=totals[first_response].on,
        best_since_response=best,
        recent=tuple(totals[tail_start:]),
        rules=tuple(fired),
    )
