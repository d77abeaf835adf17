"""Out-of-range vital signs during a dosing session, with the protocol's suggested action.

The limits live on each protocol template (clinic-editable, each with its source):
- Blood pressure: "as a general guide >140 mmHg systolic or >90 mmHg diastolic"
  before dosing (SPRAVATO label §2, read via a secondary page: provisional [S]);
  ../shared/clinical/clinical-rules.md §9.
- SpO₂: the modified Aldrete score gives 2 points only above 92% on room air
  (Aldrete 1995; §9 [V]), so 92% or lower is flagged.
- Heart and respiratory rate: no limit was found in the clinical sources
  (§11 lists none), so they are flagged only where the clinic sets its own.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limits:
    systolic_max: int | None = None
    diastolic_max: int | None = None
    spo2_min: int | None = None
    heart_rate_min: int | None = None
    heart_rate_max: int | None = None
    respiratory_rate_min: int | None = None
    respiratory_rate_max: int | None = None
    blood_pressure_action: str = ""
    spo2_action: str = ""
    heart_rate_action: str = ""
    respiratory_rate_action: str = ""


@dataclass(frozen=True)
class Reading:
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None


@dataclass(frozen=True)
class Flag:
    vital: str
    message: str
    action: str


def _above(value: int | None, limit: int | None) -> bool:
    return value is not None and limit is not None and value > limit


def _below(value: int | None, limit: int | None) -> bool:
    return value is not None and limit is not None and value < limit


def flags_for(reading: Reading, limits: Limits) -> tuple[Flag, ...]:
    """Every value outside the protocol's limits, in flowsheet column order."""
    found: list[Flag] = []
    high_bp = []
    if _above(reading.systolic, limits.systolic_max):
        high_bp.append(f"systolic {reading.systolic} > {limits.systolic_max} mmHg")
    if _above(reading.diastolic, limits.diastolic_max):
        high_bp.append(f"diastolic {reading.diastolic} > {limits.diastolic_max} mmHg")
    if high_bp:
        found.append(
            Flag(
                "blood_pressure",
                "Blood pressure high: " + ", ".join(high_bp),
                limits.blood_pressure_action,
            )
        )
    if _below(reading.heart_rate, limits.heart_rate_min) or _above(
        reading.heart_rate, limits.heart_rate_max
    ):
        found.append(
            Flag(
                "heart_rate",
                f"Heart rate {reading.heart_rate}/min outside "
                f"{limits.heart_rate_min or '–'}–{limits.heart_rate_max or '–'}",
                limits.heart_rate_action,
            )
        )
    if _below(reading.spo2, limits.spo2_min):
        found.append(
            Flag(
                "spo2",
                f"SpO₂ {reading.spo2}% below {limits.spo2_min}%",
                limits.spo2_action,
            )
        )
    if _below(reading.respiratory_rate, limits.respiratory_rate_min) or _above(
        reading.respiratory_rate, limits.respiratory_rate_max
    ):
        found.append(
            Flag(
                "respiratory_rate",
                f"Respiratory rate {reading.respiratory_rate}/min outside "
                f"{limits.respiratory_rate_min or '–'}–"
                f"{limits.respiratory_rate_max or '–'}",
                limits.respiratory_rate_action,
            )
        )
    return tuple(found)


def blocks_dose(reading: Reading, limits: Limits) -> bool:
    """A baseline blood pressure above the protocol's limit holds the dose until a
    physician records an override (SPRAVATO label §2, §9 [S])."""
    return any(f.vital == "blood_pressure" for f in flags_for(reading, limits))


CHECKPOINT_GRACE = timedelta(minutes=5)


def next_vitals_due(
    *,
    dose_started_at: datetime | None,
    checkpoints: tuple[int, ...],
    interval_minutes: int | None,
    taken: list[datetime],
) -> datetime | None:
    """When the protocol next asks for vitals after the dose: its first checkpoint
    (minutes after the dose start) with no reading from 5 minutes before it on; or,
    with an interval, that long after the latest reading since the dose started.
    None when the protocol sets neither, or every checkpoint is met."""
    if dose_started_at is None:
        return None
    since_dose = sorted(t for t in taken if t >= dose_started_at - CHECKPOINT_GRACE)
    if checkpoints:
        for minute in sorted(checkpoints):
            due = dose_started_at + timedelta(minutes=minute)
            if not any(t >= due - CHECKPOINT_GRACE for t in since_dose):
                return due
        return None
    if interval_minutes:
        last = since_dose[-1] if since_dose else dose_started_at
        return max(last, dose_started_at) + timedelta(minutes=interval_minutes)
    return None
