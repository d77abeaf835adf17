"""The discharge gate: modified Aldrete score, observation time and escort.

Modified Aldrete score (Aldrete JA, J Clin Anesth 1995;7:89): five items scored
0-2, total 0-10; **9 or more** to leave recovery. ../shared/clinical/clinical-rules.md
§9 [V] gives the items, the circulation and SpO₂ anchors and the threshold; the
other anchors are as reproduced in Kim 2015 (World J Gastroenterol 21:3671, Table 2)
and Ain-Shams J Anesthesiol 2022 (s42077-022-00234-1, Table 5). It is a general
post-sedation score, not one made for ketamine (§9 says so).

The minimum observation time is the protocol's: at least 2 hours after each
esketamine dose (SPRAVATO label §5.1, §9 [V]).
"""

from collections.abc import Mapping
from dataclasses import dataclass

ALDRETE_ITEMS: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    (
        "activity",
        "Activity",
        (
            "Cannot move extremities voluntarily or on command",
            "Moves two extremities voluntarily or on command",
            "Moves four extremities voluntarily or on command",
        ),
    ),
    (
        "respiration",
        "Respiration",
        (
            "Apnoeic",
            "Dyspnoea, shallow or limited breathing",
            "Breathes deeply and coughs freely",
        ),
    ),
    (
        "circulation",
        "Circulation",
        (
            "Blood pressure ±50% or more of the pre-dose level",
            "Blood pressure ±20–49% of the pre-dose level",
            "Blood pressure within ±20% of the pre-dose level",
        ),
    ),
    (
        "consciousness",
        "Consciousness",
        ("Not responding", "Arousable on calling", "Fully awake"),
    ),
    (
        "oxygen_saturation",
        "Oxygen saturation",
        (
            "SpO₂ below 90% even with oxygen",
            "Needs oxygen to keep SpO₂ above 90%",
            "SpO₂ above 92% on room air",
        ),
    ),
)
ALDRETE_PASS = 9


@dataclass(frozen=True)
class GateResult:
    score: int | None
    reasons: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return not self.reasons


def aldrete_total(items: Mapping[str, int | None]) -> int | None:
    """The total, or None until every item is scored."""
    values = [items.get(key) for key, _, _ in ALDRETE_ITEMS]
    if any(v is None for v in values):
        return None
    scored = [v for v in values if v is not None]
    if any(not 0 <= v <= 2 for v in scored):
        raise ValueError("Each Aldrete item is scored 0, 1 or 2")
    return sum(scored)


def discharge_gate(
    *,
    aldrete: Mapping[str, int | None],
    pass_score: int,
    observed_minutes: int | None,
    minimum_minutes: int | None,
    escort_recorded: bool,
) -> GateResult:
    """Why the patient may not leave yet (empty when they may)."""
    reasons = []
    score = aldrete_total(aldrete)
    if score is None:
        reasons.append("Score every item of the modified Aldrete score.")
    elif score < pass_score:
        reasons.append(f"Aldrete score {score} is below {pass_score}.")
    if observed_minutes is None:
        reasons.append("The dose has not been started, so observation has not begun.")
    elif minimum_minutes is not None and observed_minutes < minimum_minutes:
        reasons.append(
            f"Observed for {observed_minutes} min; the protocol asks for at least "
            f"{minimum_minutes} min after the dose."
        )
    if not escort_recorded:
        reasons.append("Record who is taking the patient home.")
    return GateResult(score=score, reasons=tuple(reasons))
