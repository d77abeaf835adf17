"""Change between two totals: response, remission, reliable change, recovery.

Pure Python, no Django imports. Every definition cites
/work/shared/clinical/clinical-rules.md ("the reference") §6 and §7, where the
primary sources are listed. A value is None where the instrument has no such
definition in the reference. Comparisons use exact fractions, so a boundary
(exactly 50 %, exactly the reliable-change threshold) is decided exactly.

Definitions used:
- Response, >= 50 % reduction from baseline: MADRS (Murrough 2013; Talati 2019;
  esketamine phase 2b) and PHQ-9 (SUSTAIN-3 table) [V]. PCL-5: a decrease of
  >= 5 points is the minimum threshold for response (qxmd calculator citing
  NCPTSD/Bovin 2016) [S, provisional].
- Remission: PHQ-9 < 5 (SUSTAIN-3; PHQ-9 treatment guide) [V]; MADRS <= 10 in
  ketamine trials (KetECT; Daly 2018; ESCAPE-TRD) [V] or <= 12 in the
  esketamine programme (ASPIRE I/II; SUSTAIN-3) [V]; QIDS-SR16 <= 5 (STAR*D,
  Trivedi 2006) [S, provisional].
- Caseness: PHQ-9 >= 10, GAD-7 >= 8 (NHS Talking Therapies; Fingertips
  glossary; NCT05134103) [V].
- Reliable improvement: a decrease of PHQ-9 >= 6 or GAD-7 >= 4 points
  (NCT05134103) [V]. Reliable deterioration, the same size of increase [R,
  provisional].
- Recovery: a case at the start and not a case at the end; only cases at the
  start are counted (HFAnalyticsLab appendix; Fingertips glossary) [V]. The
  service also counts only finished courses (>= 2 attended treatment
  appointments), which the caller must check. Reliable recovery is recovery
  and reliable improvement (Gyani 2013; Clark 2018) [V term; wording R].

For a single instrument, caseness, recovery and reliable recovery apply the
Talking Therapies definitions to that measure alone; the service's own metric
pairs PHQ-9 with GAD-7 (`talking_therapies`).
"""

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from kapcare.measures.instruments import Instrument
from kapcare.measures.scoring import ScoringError, get_instrument

Total = int | float
Programme = Literal["ketamine", "esketamine"]

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class OutcomeError(ScoringError):
    """A total that cannot be compared: unknown instrument, bad or out-of-range value."""


@dataclass(frozen=True)
class Remission:
    limit: int
    is_strict: bool
    definition: str

    def applies(self, final: Fraction) -> bool:
        return final < self.limit if self.is_strict else final <= self.limit


@dataclass(frozen=True)
class Rules:
    has_percent_response: bool = False
    response_points: int | None = None
    remission: Remission | None = None
    reliable_change: int | None = None
    caseness_from: int | None = None


MADRS_REMISSION: dict[Programme, Remission] = {
    "ketamine": Remission(
        10, False, "MADRS <= 10 (ketamine trials: KetECT, Daly 2018, ESCAPE-TRD)"
    ),
    "esketamine": Remission(
        12, False, "MADRS <= 12 (esketamine programme: ASPIRE I/II, SUSTAIN-3)"
    ),
}

RULES: dict[str, Rules] = {
    "phq9": Rules(
        has_percent_response=True,
        remission=Remission(5, True, "PHQ-9 < 5 (SUSTAIN-3; PHQ-9 treatment guide)"),
        reliable_change=6,
        caseness_from=10,
    ),
    "gad7": Rules(reliable_change=4, caseness_from=8),
    "madrs": Rules(has_percent_response=True, remission=MADRS_REMISSION["ketamine"]),
    "qids_sr16": Rules(
        remission=Remission(
            5, False, "QIDS-SR16 <= 5 (STAR*D, Trivedi 2006; provisional)"
        )
    ),
    "pcl5": Rules(response_points=5),
    "cadss": Rules(),
    "msm": Rules(),
}


@dataclass(frozen=True)
class Outcome:
    instrument: str
    change: Total | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    remission_definition: str | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    caseness_baseline: bool | None
    caseness_final: bool | None
    recovery: bool | None
    reliable_recovery: bool | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `manage.py outcome`, in the issue's key order."""
        return {
            "instrument": self.instrument,
            "change": self.change,
            "percent_change": self.percent_change,
            "response": self.response,
            "remission": self.remission,
            "remission_definition": self.remission_definition,
            "reliable_improvement": self.reliable_improvement,
            "reliable_deterioration": self.reliable_deterioration,
            "caseness_baseline": self.caseness_baseline,
            "caseness_final": self.caseness_final,
            "recovery": self.recovery,
            "reliable_recovery": self.reliable_recovery,
        }


@dataclass(frozen=True)
class PairedOutcome:
    """NHS Talking Therapies outcome on PHQ-9 and GAD-7 together."""

    change: dict[str, Total]
    percent_change: dict[str, float | None]
    reliable_improvement: bool
    reliable_deterioration: bool
    caseness_baseline: bool
    caseness_final: bool
    recovery: bool | None
    reliable_recovery: bool | None

    def as_dict(self) -> dict[str, Any]:
        """Same keys as `Outcome`; response and remission are not defined here."""
        return {
            "instrument": "talking_therapies",
            "change": dict(self.change),
            "percent_change": dict(self.percent_change),
            "response": None,
            "remission": None,
            "remission_definition": None,
            "reliable_improvement": self.reliable_improvement,
            "reliable_deterioration": self.reliable_deterioration,
            "caseness_baseline": self.caseness_baseline,
            "caseness_final": self.caseness_final,
            "recovery": self.recovery,
            "reliable_recovery": self.reliable_recovery,
        }


def parse_total(code: str, which: str, text: str) -> Total:
    """Turn a command-line total ("14", "11.25") into a number."""
    if not _NUMBER.match(text.strip()):
        raise OutcomeError(
            f"{get_instrument(code).name} {which}: {text!r} is not a number."
        )
    return float(text) if "." in text else int(text)


def outcome(
    code: str, *, baseline: Total, final: Total, programme: Programme = "ketamine"
) -> Outcome:
    """Compare a baseline and a final total on one instrument.

    `programme` picks the MADRS remission definition: ketamine trials (<= 10,
    the default) or the esketamine programme (<= 12); see the module docstring.
    """
    instrument = _instrument_with_total(code)
    pre = _check_total(instrument, "baseline", baseline)
    post = _check_total(instrument, "final", final)
    rules = RULES[code]
    remission = MADRS_REMISSION[programme] if code == "madrs" else rules.remission

    response: bool | None = None
    if rules.has_percent_response and pre > 0:
        response = 2 * post <= pre
    elif rules.response_points is not None:
        response = pre - post >= rules.response_points

    improved = deteriorated = None
    if rules.reliable_change is not None:
        improved = pre - post >= rules.reliable_change
        deteriorated = post - pre >= rules.reliable_change

    case_pre = case_post = recovery = reliable_recovery = None
    if rules.caseness_from is not None:
        case_pre = pre >= rules.caseness_from
        case_post = post >= rules.caseness_from
        recovery, reliable_recovery = _recovery(
            case_pre, case_post, improved=bool(improved)
        )

    return Outcome(
        instrument=code,
        change=final - baseline,
        percent_change=_percent(pre, post),
        response=response,
        remission=None if remission is None else remission.applies(post),
        remission_definition=None if remission is None else remission.definition,
        reliable_improvement=improved,
        reliable_deterioration=deteriorated,
        caseness_baseline=case_pre,
        caseness_final=case_post,
        recovery=recovery,
        reliable_recovery=reliable_recovery,
    )


def talking_therapies(
    *, baseline: tuple[Total, Total], final: tuple[Total, Total]
) -> PairedOutcome:
    """NHS Talking Therapies outcome from (PHQ-9, GAD-7) at baseline and final.

    Caseness: PHQ-9 >= 10 or GAD-7 >= 8 [V]. Recovery: a case at the start and
    not at the end [V]. Reliable improvement: improvement on at least one measure
    (PHQ-9 >= 6, GAD-7 >= 4 points) and no reliable deterioration on the other
    [R, provisional]. Reliable deterioration: deterioration on at least one
    measure with no reliable improvement on the other [R, provisional]. Reliable
    recovery: recovery and reliable improvement [V term; wording R]. GAD-7 stands
    in for an anxiety-disorder-specific measure, whose cut-offs are NF (Clark
    2018 Table 2).
    """
    codes = ("phq9", "gad7")
    pre: dict[str, Fraction] = {}
    post: dict[str, Fraction] = {}
    for code, b, f in zip(codes, baseline, final, strict=True):
        instrument = get_instrument(code)
        pre[code] = _check_total(instrument, "baseline", b)
        post[code] = _check_total(instrument, "final", f)
    reliable = {c: _paired_rules(c)[0] for c in codes}
    caseness = {c: _paired_rules(c)[1] for c in codes}
    improved = {c: pre[c] - post[c] >= reliable[c] for c in codes}
    deteriorated = {c: post[c] - pre[c] >= reliable[c] for c in codes}
    reliable_improvement = any(improved.values()) and not any(deteriorated.values())
    reliable_deterioration = any(deteriorated.values()) and not any(improved.values())
    case_pre = any(pre[c] >= caseness[c] for c in codes)
    case_post = any(post[c] >= caseness[c] for c in codes)
    recovery, reliable_recovery = _recovery(
        case_pre, case_post, improved=reliable_improvement
    )
    return PairedOutcome(
        change={c: f - b for c, b, f in zip(codes, baseline, final, strict=True)},
        percent_change={c: _percent(pre[c], post[c]) for c in codes},
        reliable_improvement=reliable_improvement,
        reliable_deterioration=reliable_deterioration,
        caseness_baseline=case_pre,
        caseness_final=case_post,
        recovery=recovery,
        reliable_recovery=reliable_recovery,
    )


def reliable_change_threshold(*, sd: float, reliability: float) -> float:
    """Points of change needed for reliable change (Jacobson & Truax 1991).

    SE = SD * sqrt(1 - r); S_diff = sqrt(2 * SE^2); threshold = 1.96 * S_diff
    (formula as given in the suddengains R package documentation) [V].
    """
    return 1.96 * _s_diff(sd, reliability)


def reliable_change_index(
    *, baseline: float, final: float, sd: float, reliability: float
) -> float:
    """RCI = (final - baseline) / S_diff; reliable when |RCI| > 1.96 [V]."""
    return (final - baseline) / _s_diff(sd, reliability)


def is_reliable_change(rci: float) -> bool:
    return abs(rci) > 1.96


def _s_diff(sd: float, reliability: float) -> float:
    if sd <= 0 or not 0 <= reliability < 1:
        raise OutcomeError(
            f"RCI needs sd > 0 and 0 <= reliability < 1, got {sd} and {reliability}."
        )
    standard_error = sd * math.sqrt(1 - reliability)
    return math.sqrt(2 * standard_error**2)


def _recovery(
    case_pre: bool, case_post: bool, *, improved: bool
) -> tuple[bool | None, bool | None]:
    """Recovery and reliable recovery; None when not a case at the start."""
    if not case_pre:
        return None, None
    recovery = not case_post
    return recovery, recovery and improved


def _percent(pre: Fraction, post: Fraction) -> float | None:
    """Percent change from baseline, to one decimal (negative is a reduction).

    For display only: response is decided on exact fractions, not on this value.
    None from a baseline of 0, where a percentage is undefined.
    """
    if pre == 0:
        return None
    return round(float((post - pre) / pre * 100), 1)


def _paired_rules(code: str) -> tuple[int, int]:
    """Reliable-change points and caseness cut-off of a Talking Therapies measure."""
    rules = RULES[code]
    if rules.reliable_change is None or rules.caseness_from is None:
        raise OutcomeError(f"{code} is not a Talking Therapies measure.")
    return rules.reliable_change, rules.caseness_from


def _instrument_with_total(code: str) -> Instrument:
    instrument = get_instrument(code)
    if instrument.total_range is None or code not in RULES:
        raise OutcomeError(f"{instrument.name} has no total to compare.")
    return instrument


def _check_total(instrument: Instrument, which: str, value: Total) -> Fraction:
    if instrument.total_range is None:
        raise OutcomeError(f"{instrument.name} has no total to compare.")
    low, high = instrument.total_range
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OutcomeError(f"{instrument.name} {which}: {value!r} is not a number.")
    if math.isnan(value) or not low <= value <= high:
        raise OutcomeError(
            f"{instrument.name} {which}: {value} is outside {low}-{high}."
        )
    return Fraction(value)


def parse_pair(which: str, text: str) -> tuple[Total, Total]:
    """Turn "PHQ9,GAD7" from the command line into two totals."""
    parts = text.split(",")
    if len(parts) != 2:
        raise OutcomeError(
            f"Talking Therapies {which}: expected PHQ9,GAD7 (two totals), got {text!r}."
        )
    return parse_total("phq9", which, parts[0]), parse_total("gad7", which, parts[1])
