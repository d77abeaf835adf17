"""Exact simulation of linear compartment models (pure Python with numpy/scipy).

Input is piecewise constant: boluses (mg at an instant) and constant-rate
infusions (mg/min over a span). Between events the solution is closed form: with
the rate matrix K = V Λ V⁻¹ (real, distinct, negative eigenvalues for a
mammillary model), the amounts after time τ at input rate u into the central
compartment are

    A(t₀ + τ) = V e^{Λτ} V⁻¹ A(t₀) + V diag((e^{λτ} - 1)/λ) V⁻¹ e₁ u,

so there is no time step. Evaluation is vectorised over requested times and over
patients (a batch of weights), each with its own K.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from kapcare.pharmacokinetics.models import Rates, get_model, ng_ml_to_micromolar

Array = npt.NDArray[np.float64]


class ScheduleError(ValueError):
    """A dosing schedule that cannot be simulated (the message says why)."""


@dataclass(frozen=True)
class Bolus:
    at_min: float
    mg: float


@dataclass(frozen=True)
class Infusion:
    start_min: float
    minutes: float
    mg_per_min: float

    @property
    def end_min(self) -> float:
        return self.start_min + self.minutes


Dose = Bolus | Infusion


def check_schedule(schedule: Sequence[Dose]) -> None:
    if not schedule:
        raise ScheduleError(
            "The schedule is empty: give at least one bolus or infusion."
        )
    infusions = sorted(
        (d for d in schedule if isinstance(d, Infusion)), key=lambda d: d.start_min
    )
    for dose in schedule:
        if isinstance(dose, Bolus):
            if dose.mg <= 0 or dose.at_min < 0:
                raise ScheduleError(
                    "A bolus needs a positive dose (mg) at a time ≥ 0 min."
                )
        elif dose.minutes <= 0 or dose.mg_per_min <= 0 or dose.start_min < 0:
            raise ScheduleError(
                "An infusion needs a start ≥ 0 min, a positive length and a positive rate."
            )
    for before, after in pairwise(infusions):
        if after.start_min < before.end_min - 1e-9:
            raise ScheduleError(
                f"Infusions overlap: one runs {before.start_min:g}-{before.end_min:g} min, "
                f"another starts at {after.start_min:g} min."
            )


def rate_matrix(rates: Rates) -> Array:
    """dA/dt = K A (amounts in mg, per minute); compartment 0 is central."""
    k = rates
    if rates.compartments == 3:
        return np.array(
            [
                [-(k.k10 + k.k12 + k.k13), k.k21, k.k31],
                [k.k12, -k.k21, 0.0],
                [k.k13, 0.0, -k.k31],
            ]
        )
    return np.array([[-(k.k10 + k.k12), k.k21], [k.k12, -k.k21]])


def _events(schedule: Sequence[Dose]) -> list[tuple[float, float, float]]:
    """(start, end, infusion rate) segments, with boluses applied at segment
    starts (listed separately), covering from 0 to the last event."""
    times = {0.0}
    for dose in schedule:
        if isinstance(dose, Bolus):
            times.add(dose.at_min)
        else:
            times |= {dose.start_min, dose.end_min}
    ordered = sorted(times)
    segments = []
    for start, end in zip(ordered, [*ordered[1:], float("inf")], strict=True):
        rate = sum(
            d.mg_per_min
            for d in schedule
            if isinstance(d, Infusion) and d.start_min <= start < d.end_min
        )
        segments.append((start, end, rate))
    return segments


def amounts(
    rates_batch: Sequence[Rates],
    schedule: Sequence[Dose],
    times_min: Sequence[float] | Array,
) -> Array:
    """Amounts (mg) in every compartment, shape (patients, times, compartments)."""
    return _solve(rates_batch, schedule, times_min, central_only=False)


def _solve(
    rates_batch: Sequence[Rates],
    schedule: Sequence[Dose],
    times_min: Sequence[float] | Array,
    *,
    central_only: bool,
) -> Array:
    """The amounts; with `central_only`, only the central compartment's (patients,
    times, 1), mapped back from eigen-coordinates by the first row of V alone."""
    check_schedule(schedule)
    times = np.asarray(times_min, dtype=float)
    if np.any(times < 0):
        raise ScheduleError("Times must be ≥ 0 min.")
    n = rates_batch[0].compartments
    if any(r.compartments != n for r in rates_batch):
        raise ScheduleError("Every patient in a batch must use the same model.")
    matrices = np.stack([rate_matrix(r) for r in rates_batch])  # (p, n, n)
    eigenvalues, vectors = np.linalg.eig(matrices)
    eigenvalues, vectors = eigenvalues.real, vectors.real
    inverse = np.linalg.inv(vectors)
    unit = np.zeros(n)
    unit[0] = 1.0
    drive = np.einsum("pij,j->pi", inverse, unit)  # V⁻¹ e₁, shape (p, n)
    state = np.zeros((len(rates_batch), n))  # in eigen-coordinates: V⁻¹ A
    back = vectors[:, :1, :] if central_only else vectors  # rows of V to map back
    result = np.zeros((len(rates_batch), times.size, back.shape[1]))
    boluses = [d for d in schedule if isinstance(d, Bolus)]
    for start, end, rate in _events(schedule):
        for bolus in boluses:
            if bolus.at_min == start:
                state = state + drive * bolus.mg
        inside = (times >= start) & (times < end)
        if inside.any():
            tau = times[inside] - start  # (t,)
            growth = np.exp(eigenvalues[:, None, :] * tau[None, :, None])  # (p, t, n)
            local = state[:, None, :] * growth + drive[:, None, :] * rate * (
                (growth - 1.0) / eigenvalues[:, None, :]
            )
            result[:, inside, :] = np.matmul(local, back.transpose(0, 2, 1))
        if np.isfinite(end):
            growth_end = np.exp(eigenvalues * (end - start))
            state = state * growth_end + drive * rate * (
                (growth_end - 1.0) / eigenvalues
            )
    return result


def concentrations(
    rates_batch: Sequence[Rates],
    schedule: Sequence[Dose],
    times_min: Sequence[float] | Array,
) -> Array:
    """Central (plasma) concentration in ng/mL, shape (patients, times)."""
    central = _solve(rates_batch, schedule, times_min, central_only=True)[:, :, 0]
    volumes = np.array([r.v1_litres for r in rates_batch])
    result: Array = central / volumes[:, None] * 1000.0  # mg/L = µg/mL -> ng/mL
    return result


@dataclass(frozen=True)
class Prediction:
    model: str
    weight_kg: float
    times_min: list[float]
    ng_ml: list[float]

    @property
    def micromolar(self) -> list[float]:
        return [ng_ml_to_micromolar(c) for c in self.ng_ml]


def predict(
    model_code: str,
    weight_kg: float,
    schedule: Sequence[Dose],
    times_min: Sequence[float],
) -> Prediction:
    model = get_model(model_code)
    if not model.min_weight_kg <= weight_kg <= model.max_weight_kg:
        raise ScheduleError(
            f"Weight {weight_kg:g} kg is outside the adult range this model is used for "
            f"({model.min_weight_kg:g}-{model.max_weight_kg:g} kg)."
        )
    values = concentrations([model.rates_for(weight_kg)], schedule, times_min)[0]
    return Prediction(
        model_code, weight_kg, [float(t) for t in times_min], [float(c) for c in values]
    )


def minutes_above(
    model_code: str, weight_kg: float, schedule: Sequence[Dose], threshold_ng_ml: float,
    until_min: float,
) -> float:  # fmt: skip
    """Time (min) from 0 to `until_min` with predicted plasma concentration above
    the threshold: sign changes found on a 1-second scan, each crossing then
    solved to 1e-9 min by Brent's method on the exact solution."""
    rates = [get_model(model_code).rates_for(weight_kg)]

    def excess(t: float) -> float:
        return float(concentrations(rates, schedule, [t])[0, 0]) - threshold_ng_ml

    grid = np.linspace(0.0, until_min, max(2, int(until_min * 60) + 1))
    values = concentrations(rates, schedule, grid)[0] - threshold_ng_ml
    total = 0.0
    entered = 0.0 if values[0] > 0 else None
    for i in range(1, grid.size):
        if (values[i - 1] > 0) != (values[i] > 0):
            crossing = brentq(excess, grid[i - 1], grid[i], xtol=1e-9)
            if values[i] > 0:
                entered = crossing
            elif entered is not None:
                total += crossing - entered
                entered = None
    if entered is not None:
        total += until_min - entered
    return total
