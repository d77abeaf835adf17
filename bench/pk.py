"""Issue 10's target: a whole session curve (a point every 10 s for 4 h) for
1,000 patients of different weights, computed exactly in one batch."""

import time

import numpy as np

from kapcare.pharmacokinetics.models import MODELS
from kapcare.pharmacokinetics.simulate import Infusion, concentrations

PATIENTS = 1_000
POINTS = 240 * 6 + 1


def measure(repeats: int = 5) -> dict[str, float]:
    """Best-of-`repeats` seconds per model for the batch."""
    weights = np.linspace(45, 140, PATIENTS)
    times = np.arange(POINTS) * 10 / 60
    schedule = [Infusion(0, 40, 0.5 * 70 / 40)]
    figures = {}
    for code, model in MODELS.items():
        rates = [model.rates_for(w) for w in weights]
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            concentrations(rates, schedule, times)
            best = min(best, time.perf_counter() - started)
        figures[code] = best
    return figures
