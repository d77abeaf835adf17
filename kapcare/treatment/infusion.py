"""What the infusion pump actually did: the planned infusion, as paused, restarted,
changed in rate or stopped by the nurse (pure Python, no Django imports).

The bag holds the whole dose, and the planned rate empties it in the planned
minutes (kapcare/treatment/dosing.py), so at any rate the pump gives the dose at
(rate ÷ planned rate) × (dose ÷ planned minutes) mg/min, and the infusion ends when
the bag is empty or when it is stopped. The runs found here are the piecewise
constant input for the pharmacokinetic models (kapcare/pharmacokinetics).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class PumpAction(StrEnum):
    PAUSED = "paused"
    RESUMED = "resumed"
    RATE_CHANGED = "rate_changed"
    STOPPED = "stopped"


class InfusionError(ValueError):
    """An action the infusion's state does not allow (the message says why)."""


@dataclass(frozen=True)
class PumpEvent:
    at: datetime
    action: PumpAction
    rate_ml_per_h: Decimal | None = None


@dataclass(frozen=True)
class PumpRun:
    """The pump running at one rate from start to end."""

    start: datetime
    end: datetime
    rate_ml_per_h: Decimal | None
    mg_per_min: float


@dataclass(frozen=True)
class InfusionState:
    runs: list[PumpRun] = field(default_factory=list)
    ends_at: datetime | None = None
    paused_since: datetime | None = None
    stopped_at: datetime | None = None
    rate_ml_per_h: Decimal | None = None
    dose_mg: float = 0.0
    last_event_at: datetime | None = None

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None

    @property
    def given_mg(self) -> float:
        """The dose the pump gives by its end (or by now, while paused)."""
        return sum(
            run.mg_per_min * (run.end - run.start).total_seconds() / 60
            for run in self.runs
        )

    def given_mg_by(self, when: datetime) -> float:
        return sum(
            run.mg_per_min * max(0.0, (min(run.end, when) - run.start).total_seconds()) / 60
            for run in self.runs
        )  # fmt: skip

    def is_running_at(self, when: datetime) -> bool:
        return any(run.start <= when < run.end for run in self.runs)


def infusion_state(
    *,
    started_at: datetime,
    dose_mg: float,
    planned_minutes: float,
    planned_rate_ml_per_h: Decimal | None,
    events: Sequence[PumpEvent],
) -> InfusionState:
    """Replays the pump events in order from the start. While the pump runs the
    remaining dose goes at the current rate until the bag is empty; while paused
    nothing is given and the end is unknown."""
    if dose_mg <= 0 or planned_minutes <= 0:
        return InfusionState(ends_at=started_at, dose_mg=max(dose_mg, 0.0))
    planned_mg_per_min = dose_mg / planned_minutes
    rate = planned_rate_ml_per_h

    def mg_per_min(at_rate: Decimal | None) -> float:
        if at_rate is None or not planned_rate_ml_per_h:
            return planned_mg_per_min
        return planned_mg_per_min * float(at_rate / planned_rate_ml_per_h)

    runs: list[PumpRun] = []
    left_mg = dose_mg
    now, running = started_at, True
    paused_since = stopped_at = ends_at = None

    def run_until(until: datetime | None) -> datetime | None:
        """Runs the pump from `now`; the time the bag empties if that is first."""
        nonlocal left_mg
        speed = mg_per_min(rate)
        empties = now + timedelta(minutes=left_mg / speed)
        end = empties if until is None or empties <= until else until
        runs.append(PumpRun(now, end, rate, speed))
        left_mg -= speed * (end - now).total_seconds() / 60
        return end if end == empties else None

    for event in events:
        if running:
            ends_at = run_until(event.at)
            if ends_at is not None:
                break
        now = event.at
        if event.action == PumpAction.PAUSED:
            running, paused_since = False, event.at
        elif event.action == PumpAction.RESUMED:
            running, paused_since = True, None
            rate = event.rate_ml_per_h or rate
        elif event.action == PumpAction.RATE_CHANGED:
            rate = event.rate_ml_per_h or rate
        else:
            # Stopped while paused: nothing has flowed since the pause.
            ends_at = paused_since or event.at
            running, paused_since, stopped_at = False, None, event.at
            break
    else:
        if running:
            ends_at = run_until(None)
    return InfusionState(
        runs=runs, ends_at=ends_at, paused_since=paused_since, stopped_at=stopped_at,
        rate_ml_per_h=rate, dose_mg=dose_mg,
        last_event_at=events[-1].at if events else None,
    )  # fmt: skip


def check_action(
    state: InfusionState, event: PumpEvent, *, started_at: datetime, now: datetime
) -> None:
    """Refuses an action the pump's state at that time does not allow, or a time
    before the dose started, before the last recorded action, or in the future."""
    if event.at < started_at:
        raise InfusionError("That time is before the dose started.")
    if event.at > now:
        raise InfusionError("That time is in the future.")
    if state.last_event_at is not None and event.at < state.last_event_at:
        raise InfusionError(
            "That time is before the last pump action recorded; record actions in order."
        )
    if state.stopped_at is not None:
        raise InfusionError("The infusion was stopped; nothing more can be recorded.")
    if state.ends_at is not None and state.ends_at <= event.at:
        raise InfusionError(
            "The infusion had already finished by then (the whole dose was given)."
        )
    if event.action == PumpAction.PAUSED and state.is_paused:
        raise InfusionError("The infusion is already paused.")
    if event.action == PumpAction.RESUMED and not state.is_paused:
        raise InfusionError("The infusion is not paused.")
    if event.action == PumpAction.RATE_CHANGED:
        if state.is_paused:
            raise InfusionError(
                "The infusion is paused: restart it, with the new rate if it changes."
            )
        if event.rate_ml_per_h is None:
            raise InfusionError("Enter the new pump rate in mL/h.")
        if event.rate_ml_per_h == state.rate_ml_per_h:
            raise InfusionError("That is the rate the pump is already running at.")
    if event.rate_ml_per_h is not None and state.rate_ml_per_h is None:
        raise InfusionError(
            "No pump rate was calculated for this dose, so a rate cannot be changed."
        )
    if event.rate_ml_per_h is not None and event.rate_ml_per_h <= 0:
        raise InfusionError("The pump rate must be more than zero.")
