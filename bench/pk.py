"""Issue 10's target: a whole session curve (a point every 10 s for 4 h) for
1,000 patients of different weights, computed exactly in one batch, and its ratio
to a numpy-only baseline of the same closed form measured in the same run.

The baseline is the textbook polyexponential for one constant-rate infusion into
the central compartment (no schedule checks, no other compartments, no general
event handling): C(t) = R/V1 Σᵢ cᵢ (e^{λᵢ min(t,T)} - 1)/λᵢ · e^{λᵢ max(t-T, 0)},
with cᵢ = Vᵢ₀ (V⁻¹)₀ᵢ from the same eigen-decomposition of the rate matrix."""

import time
from dataclasses import dataclass

import numpy as np

from kapcare.pharmacokinetics.models import MODELS, Rates
from kapcare.pharmacokinetics.simulate import (
    Array,
    Infusion,
    concentrations,
    rate_matrix,
)

PATIENTS = 1_000
POINTS = 240 * 6 + 1
INFUSION_MIN = 40.0


@dataclass(frozen=True)
class PkFigures:
    seconds: float
    baseline_seconds: float
    max_relative_difference: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds


def baseline(rates: list[Rates], mg_per_min: float, times: Array) -> Array:
    """Central concentration (ng/mL) for one infusion from 0 to INFUSION_MIN."""
    eigenvalues, vectors = np.linalg.eig(np.stack([rate_matrix(r) for r in rates]))
    eigenvalues, vectors = eigenvalues.real, vectors.real
    weights = vectors[:, 0, :] * np.linalg.inv(vectors)[:, :, 0]  # (p, n)
    during = np.minimum(times, INFUSION_MIN)[None, :, None]
    after = np.maximum(times - INFUSION_MIN, 0.0)[None, :, None]
    lam = eigenvalues[:, None, :]
    terms = (np.exp(lam * during) - 1.0) / lam * np.exp(lam * after)
    central = mg_per_min * np.einsum("pn,ptn->pt", weights, terms)
    volumes = np.array([r.v1_litres for r in rates])
    result: Array = central / volumes[:, None] * 1000.0
    return result


def _best(repeats: int, work: "object") -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def measure(repeats: int = 10) -> dict[str, PkFigures]:
    """Best-of-`repeats` seconds per model for the batch, ours and the baseline's,
    and how far apart their curves are."""
    weights = np.linspace(45, 140, PATIENTS)
    times = np.arange(POINTS) * 10 / 60
    rate = 0.5 * 70 / INFUSION_MIN
    schedule = [Infusion(0, INFUSION_MIN, rate)]
    figures = {}
    for code, model in MODELS.items():
        rates = [model.rates_for(w) for w in weights]
        ours = concentrations(rates, schedule, times)
        plain = baseline(rates, rate, times)
        figures[code] = PkFigures(
            seconds=_best(repeats, lambda: concentrations(rates, schedule, times)),  # noqa: B023
            baseline_seconds=_best(repeats, lambda: baseline(rates, rate, times)),  # noqa: B023
            max_relative_difference=float(
                np.max(np.abs(ours[:, 1:] / plain[:, 1:] - 1))
            ),
        )
    return figures
