"""Which scores raise a safety alert, and at what level (pure Python).

Published rules:
- C-SSRS screener: high risk -> high (Columbia "Clinical triage and workflow
  guidelines", clinical-rules.md §4 [V]); moderate risk -> moderate (secondary
  summaries of Columbia's triage colours, §4 [S, provisional]).
- Suicidal ideation on a depression scale (PHQ-9 item 9 > 0, QIDS-SR16 item 12 > 0,
  MADRS item 10 > 0): clinical-rules.md §1 and §5 require an alert "whatever the
  total or validity", and a missing item 9 is "unknown", never "not at all".

Kapcare safety policy where the sources grade no level (not published rules; the
non-negotiable is that no positive suicidality answer goes without an alert that a
clinician must acknowledge):
- Endorsed suicidal ideation on a depression scale: high, the shorter deadline.
- C-SSRS screener low risk (yes to question 1 and/or 2 only): moderate.
- C-SSRS screener left incomplete with any "yes" to questions 1-6: high, because the
  blanks could hide high risk.
- A suicidality item left unanswered (item9_missing, item12_missing, item10_missing):
  moderate, so someone asks the question.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Level = Literal["high", "moderate"]


@dataclass(frozen=True)
class AlertRule:
    level: Level
    reason: str


_MISSING_SUICIDALITY_FLAGS = {"item9_missing", "item10_missing", "item12_missing"}


def alerts_for_score(
    instrument_name: str,
    flags: Sequence[str],
    risk: str | None,
    *,
    answers: Sequence[int | None] = (),
    is_cssrs: bool = False,
) -> list[AlertRule]:
    rules = []
    if "suicidal_ideation" in flags:
        rules.append(
            AlertRule("high", f"{instrument_name}: suicidal thoughts endorsed")
        )
    if _MISSING_SUICIDALITY_FLAGS.intersection(flags):
        rules.append(
            AlertRule(
                "moderate", f"{instrument_name}: suicidality question not answered"
            )
        )
    if risk == "high":
        rules.append(AlertRule("high", f"{instrument_name}: high suicide risk"))
    elif risk == "moderate":
        rules.append(AlertRule("moderate", f"{instrument_name}: moderate suicide risk"))
    elif risk == "low":
        rules.append(
            AlertRule(
                "moderate",
                f"{instrument_name}: low suicide risk (wish to be dead or suicidal thoughts)",
            )
        )
    elif is_cssrs and 1 in answers[:6]:
        rules.append(
            AlertRule("high", f"{instrument_name}: incomplete screen with a yes answer")
        )
    return rules
