"""Scoring engine for the instrument library (pure Python, no Django imports).

`score(code, answers)` takes one answer per item, in item order, with None for
an unanswered or not-asked item, and returns a frozen `Score`. Every rule cites
/work/shared/clinical/clinical-rules.md ("the reference"); the instrument
modules in kapcare.measures.instruments cite the primary sources.

Missing items are handled only as the reference allows: the PHQ-9 is prorated
by the NHS Data Dictionary rule; every other instrument with a missing scored
item is not scorable (total None, complete False). `complete` is True only when
every item that should have been answered was answered.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.instruments.pcl5 import CLUSTERS, ENDORSED_AT
from kapcare.measures.instruments.qids_sr16 import DOMAINS

Answers = Sequence[int | None]
Risk = Literal["none", "low", "moderate", "high"]

_INTEGER = re.compile(r"^-?[0-9]+$")


class ScoringError(ValueError):
    """Answers that cannot be scored: unknown instrument, wrong count, bad value."""


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | float | None
    band: str | None
    subscales: dict[str, int | None] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    risk: Risk | None = None
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `manage.py score`."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "subscales": dict(self.subscales),
            "flags": list(self.flags),
            "risk": self.risk,
            "complete": self.complete,
        }


def get_instrument(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        choices = ", ".join(sorted(INSTRUMENTS))
        raise ScoringError(
            f"Unknown instrument {code!r}; choose from {choices}."
        ) from None


def parse_answers(code: str, raw: Sequence[str]) -> list[int | None]:
    """Turn command-line answers ("2", "-") into values; "-" means unanswered."""
    instrument = get_instrument(code)
    _check_count(instrument, raw)
    answers: list[int | None] = []
    for item, text in zip(instrument.items, raw, strict=False):
        if text == "-":
            answers.append(None)
        elif _INTEGER.match(text.strip()):
            answers.append(int(text))
        else:
            raise ScoringError(
                f"{instrument.name} {item.label}: {text!r} is not a whole number "
                "(use - for an unanswered item)."
            )
    return answers


def score(code: str, answers: Answers, *, keep_contradictions: bool = False) -> Score:
    """Score one response; raise ScoringError naming the item on invalid input.

    `keep_contradictions` is for answers a person actually gave (forms), never for
    checking a scoring rule: a C-SSRS answer to a question its skip logic would not
    have asked is kept and flagged `contradictory_answers` instead of refused, so a
    "yes" is never lost (see `_score_cssrs_screener`).
    """
    instrument = get_instrument(code)
    _validate(instrument, answers)
    if code == "cssrs_screener":
        return _score_cssrs_screener(
            instrument, answers, keep_contradictions=keep_contradictions
        )
    return _SCORERS[code](instrument, answers)


def _check_count(instrument: Instrument, answers: Sequence[object]) -> None:
    """Refuse too few or too many answers, naming the first missing or extra item."""
    required = sum(1 for item in instrument.items if not item.is_optional)
    allowed = len(instrument.items)
    if required <= len(answers) <= allowed:
        return
    expected = str(required) if required == allowed else f"{required} or {allowed}"
    if len(answers) < required:
        name = instrument.items[len(answers)].label
        problem = "no answer given (use - for an unanswered item)"
    else:
        name = f"item {allowed + 1}"
        problem = "unexpected extra answer"
    raise ScoringError(
        f"{instrument.name} {name}: {problem}; expected {expected} answers, "
        f"got {len(answers)}."
    )


def _validate(instrument: Instrument, answers: Answers) -> None:
    _check_count(instrument, answers)
    for item, value in zip(instrument.items, answers, strict=False):
        if value is None:
            continue
        # bool is an int subclass; True as an answer is a caller's bug.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScoringError(
                f"{instrument.name} {item.label}: {value!r} is not a whole number."
            )
        if not item.min_value <= value <= item.max_value:
            raise ScoringError(
                f"{instrument.name} {item.label}: {value} is outside "
                f"{item.min_value}-{item.max_value}."
            )


def _scored(instrument: Instrument, answers: Answers) -> list[int | None]:
    """The answers to the scored items, in item order."""
    return [
        value
        for item, value in zip(instrument.items, answers, strict=False)
        if item.is_scored
    ]


def _sum_or_none(instrument: Instrument, answers: Answers) -> Score:
    """Sum of the items with the instrument's bands (GAD-7, MSM, CADSS).

    Not scorable when any item is missing: the reference gives these
    instruments no missing-item rule (GAD-7: NF, §2 and §11).
    """
    values = _scored(instrument, answers)
    if any(value is None for value in values):
        return Score(instrument.code, None, None, complete=False)
    total = sum(value for value in values if value is not None)
    return Score(instrument.code, total, instrument.band_for(total))


def _item_flags(value: int | None, item_number: int) -> tuple[str, ...]:
    """Suicidality-item flags: positive above 0, "unknown" when unanswered.

    Design requirement in the reference (§1, §5): alert on any answer >= 1 to a
    suicidality item whatever the total or validity, and treat a missing answer
    as unknown, never as "not at all".
    """
    if value is None:
        return (f"item{item_number}_missing",)
    if value > 0:
        return ("suicidal_ideation",)
    return ()


def _score_phq9(instrument: Instrument, answers: Answers) -> Score:
    """PHQ-9 total, band, item-9 flags and the NHS missing-item rule.

    Total: sum of items 1-9, 0-27 (Kroenke 2001; NHS DD) [V]. Bands by cut-points
    5, 10, 15, 20 [V]. Missing items (NHS Data Dictionary) [V]: "If one or two
    values are missing… substituted with the average score of the non-missing
    items. Questionnaires with more than two missing values should be
    disregarded." No rounding rule, so a prorated total is left unrounded.
    """
    values = _scored(instrument, answers)
    flags = _item_flags(values[8], 9)
    answered = [value for value in values if value is not None]
    missing = len(values) - len(answered)
    if missing == 0:
        total = sum(answered)
        return Score(instrument.code, total, instrument.band_for(total), flags=flags)
    if missing > 2:
        return Score(instrument.code, None, None, flags=flags, complete=False)
    # Sum plus `missing` times the mean equals the mean times 9; one division
    # keeps the float as exact as it can be.
    prorated = sum(answered) * len(values) / len(answered)
    return Score(
        instrument.code,
        prorated,
        instrument.band_for(prorated),
        flags=(*flags, "prorated"),
        complete=False,
    )


def _score_pcl5(instrument: Instrument, answers: Answers) -> Score:
    """PCL-5 total, DSM-5 cluster sums and the provisional-diagnosis rule.

    Total 0-80; clusters B 1-5, C 6-7, D 8-14, E 15-20; provisional PTSD when
    items rated >= 2 number >= 1 in B, >= 1 in C, >= 2 in D and >= 2 in E
    (NCPTSD; CamCOPS) [V]. No severity bands exist [V]. The reference has no
    missing-item rule: a cluster with a missing item has no sum, and the
    diagnosis rule is applied to complete responses only.
    """
    subscales: dict[str, int | None] = {}
    meets_rule = True
    for name, numbers, required in CLUSTERS:
        values = [answers[number - 1] for number in numbers]
        if any(value is None for value in values):
            subscales[name] = None
            continue
        present = [value for value in values if value is not None]
        subscales[name] = sum(present)
        if sum(1 for value in present if value >= ENDORSED_AT) < required:
            meets_rule = False
    result = _sum_or_none(instrument, answers)
    if not result.complete:
        return Score(instrument.code, None, None, subscales=subscales, complete=False)
    flags = ("provisional_ptsd",) if meets_rule else ()
    return Score(instrument.code, result.total, None, subscales=subscales, flags=flags)


def _score_qids_sr16(instrument: Instrument, answers: Answers) -> Score:
    """QIDS-SR16: the sum of nine domain scores, 0-27 (Rush 2003; ids-qids.org) [V].

    Total = max(1-4) + 5 + max(6-9) + 10 + 11 + 12 + 13 + 14 + max(15, 16); bands
    0-5 none, 6-10 mild, 11-15 moderate, 16-20 severe, 21-27 very severe [V].
    Item 12 is the suicidality item, flagged as for PHQ-9 item 9 (design
    requirement, reference §5). The reference has no missing-item rule: a domain
    with a missing item has no score and the total is not scorable.
    """
    subscales: dict[str, int | None] = {}
    for name, numbers in DOMAINS:
        values = [answers[number - 1] for number in numbers]
        present = [value for value in values if value is not None]
        subscales[name] = max(present) if len(present) == len(values) else None
    flags = _item_flags(answers[11], 12)
    domain_scores = [value for value in subscales.values() if value is not None]
    if len(domain_scores) < len(DOMAINS):
        return Score(
            instrument.code, None, None, subscales, flags=flags, complete=False
        )
    total = sum(domain_scores)
    return Score(
        instrument.code, total, instrument.band_for(total), subscales, flags=flags
    )


def _score_madrs(instrument: Instrument, answers: Answers) -> Score:
    """MADRS total 0-60 and Snaith 1986 bands [V]; item 10 is suicidal thoughts.

    The suicidal_ideation flag on item 10 > 0 follows issue 3's specification
    and the reference's design requirement for suicidality items.
    """
    result = _sum_or_none(instrument, answers)
    return Score(
        instrument.code,
        result.total,
        result.band,
        flags=_item_flags(answers[9], 10),
        complete=result.complete,
    )


def _score_cssrs_screener(
    instrument: Instrument, answers: Answers, *, keep_contradictions: bool = False
) -> Score:
    """C-SSRS screener risk level from the screen version's skip logic.

    Skip logic [V]: ask 1 and 2; if 2 is yes ask 3, 4, 5 and 6; if 2 is no go
    to 6. The follow-up "within the past 3 months" is asked only when 6 is yes.
    High [V, Columbia triage guidelines]: yes to 4 or 5, or behaviour within the
    past 3 months. Provisional [S]: moderate is yes to 3, or behaviour more than
    3 months ago; low is yes to 1 and/or 2 only. None: all no.

    A not-asked question must be left unanswered (a contradictory answer is
    refused). When an asked question is unanswered the screen is incomplete and
    the risk is None, unless an answered question already makes it high.

    With `keep_contradictions` (Kapcare policy for answers people gave, not a
    published rule), a not-asked answer is kept: the screen is incomplete, flagged
    `contradictory_answers`, and a yes to 4 or 5 (or recent behaviour) still makes
    the risk high.
    """
    q1, q2, q3, q4, q5, q6, recent = answers
    contradictions = []
    if q2 == 0:
        for number, value in ((3, q3), (4, q4), (5, q5)):
            if value is not None:
                contradictions.append(
                    f"{instrument.name} question {number}: not asked when question "
                    "2 is no (0); use -."
                )
    if q6 != 1 and recent is not None:
        contradictions.append(
            f"{instrument.name} question 6 (within the past 3 months): asked only "
            "when question 6 is yes (1); use -."
        )
    if contradictions and not keep_contradictions:
        raise ScoringError(contradictions[0])
    asked = [q1, q2, q6]
    if q2 != 0:
        asked += [q3, q4, q5]
    if q6 == 1:
        asked.append(recent)
    complete = None not in asked and not contradictions

    risk: Risk | None
    if q4 == 1 or q5 == 1 or (recent == 1 and (q6 == 1 or contradictions)):
        risk = "high"
    elif not complete:
        risk = None
    elif q3 == 1 or q6 == 1:
        risk = "moderate"
    elif q1 == 1 or q2 == 1:
        risk = "low"
    else:
        risk = "none"
    flags = ("contradictory_answers",) if contradictions else ()
    return Score(instrument.code, None, None, flags=flags, risk=risk, complete=complete)


_SCORERS: dict[str, Callable[[Instrument, Answers], Score]] = {
    "phq9": _score_phq9,
    "gad7": _sum_or_none,
    "pcl5": _score_pcl5,
    "cssrs_screener": _score_cssrs_screener,
    "qids_sr16": _score_qids_sr16,
    "madrs": _score_madrs,
    "cadss": _sum_or_none,
    "msm": _sum_or_none,
}
