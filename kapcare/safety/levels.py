"""Which scores raise a safety alert, and at what level (pure Python).

- C-SSRS screener: high risk -> high (Columbia "Clinical triage and workflow
  guidelines", clinical-rules.md §4 [V]); moderate risk -> moderate (secondary
  summaries of Columbia's triage colours, §4 [S, provisional]). Low risk raises no
  alert (issue 4: "C-SSRS screener moderate or high risk").
- Suicidal ideation on a depression scale (PHQ-9 item 9 > 0, QIDS-SR16 item 12 > 0,
  MADRS item 10 > 0): clinical-rules.md §1 and §5 require an alert "whatever the
  total or validity" but grade no level. Kapcare raises it as high, the level with
  the shorter deadline, until a source says otherwise (a safety policy, not a
  published rule).
"""

from dataclasses import dataclass
from typing import Literal

Level = Literal["high", "moderate"]


@dataclass(frozen=True)
class AlertRule:
    level: Level
    reason: str


SUICIDAL_IDEATION_LEVEL: Level = "high"


def alerts_for_score(
    instrument_name: str, flags: tuple[str, ...] | list[str], risk: str | None
) -> list[AlertRule]:
    rules = []
    if "suicidal_ideation" in flags:
        rules.append(
            AlertRule(
                SUICIDAL_IDEATION_LEVEL,
                f"{instrument_name}: suicidal thoughts endorsed",
            )
        )
    if risk == "high":
        rules.append(AlertRule("high", f"{instrument_name}: high suicide risk"))
    elif risk == "moderate":
        rules.append(AlertRule("moderate", f"{instrument_name}: moderate suicide risk"))
    return rules
