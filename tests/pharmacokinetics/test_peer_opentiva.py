"""Agreement with the open-source peer implementation opentiva 1.1.2 (a test-only
dependency; ../shared/clinical/ketamine-pk.md §2): its analytic tri-exponential
superposition on a one-second grid, against our eigen-decomposition solution.

opentiva schedules in whole seconds, so every regimen here starts and stops on a
second, and a "bolus" is given to both as the same one-second infusion.
"""

from typing import Any

import numpy as np
import pytest
from opentiva import ketamine, pump

from kapcare.pharmacokinetics.models import MODELS, Rates
from kapcare.pharmacokinetics.simulate import Infusion, concentrations

PEERS = {"kamp2020": ketamine.Klamp, "domino": ketamine.Domino, "clements250": ketamine.Clements250}  # fmt: skip
# (start s, mg per s, duration s) for a patient of weight w
REGIMENS: dict[str, Any] = {
    "bolus": lambda w: [(0, 0.5 * w, 1)],
    "infusion 0.5 mg/kg over 40 min": lambda w: [(0, 0.5 * w / 2400, 2400)],
    "infusion paused 10-20 min": lambda w: [
        (0, 0.5 * w / 2400, 600),
        (1200, 0.5 * w / 2400, 1800),
    ],
    "two infusions, the second faster": lambda w: [
        (0, 0.3 * w / 1800, 1800),
        (2400, 0.2 * w / 600, 600),
    ],
}
SAMPLE_SECONDS = np.array([30, 60, 300, 600, 900, 1200, 1800, 2400, 3000, 3600, 5400, 7200, 14_399])  # fmt: skip


def _peer_ng_ml(peer_model: Any, regimen: list[tuple[int, float, int]]) -> np.ndarray:
    pk_pump = pump.Pump(model=peer_model, drug_concentration=10, end_time=4 * 3600)
    for start, mg_per_s, seconds in regimen:
        pk_pump.add_infusion(start=start, dose=mg_per_s, duration=seconds)
    seconds_and_cp = pk_pump.run()
    # mg/mL with volumes in L and doses in mg is mg/L = µg/mL: ×1000 for ng/mL
    by_second = dict(
        zip(seconds_and_cp[:, 0].astype(int), seconds_and_cp[:, 1], strict=True)
    )
    return np.array([by_second[s] for s in SAMPLE_SECONDS]) * 1000


def _ours_ng_ml(rates: Rates, regimen: list[tuple[int, float, int]]) -> np.ndarray:
    schedule = [Infusion(start / 60, seconds / 60, mg_per_s * 60) for start, mg_per_s, seconds in regimen]  # fmt: skip
    ng_ml: np.ndarray = concentrations([rates], schedule, SAMPLE_SECONDS / 60)[0]
    return ng_ml


def _peer_rates(peer_model: Any) -> Rates:
    return Rates(
        peer_model.v1, k10=peer_model.k10, k12=peer_model.k12, k21=peer_model.k21,
        k13=getattr(peer_model, "k13", 0.0), k31=getattr(peer_model, "k31", 0.0),
    )  # fmt: skip


@pytest.mark.parametrize("regimen", REGIMENS)
@pytest.mark.parametrize("code", PEERS)
@pytest.mark.parametrize("weight", [45, 70, 110])
def test_the_simulation_agrees_with_opentiva_within_1_percent(
    code: str, regimen: str, weight: float
) -> None:
    """The same model parameters through both solvers: within 1% at every sample
    (in practice to rounding)."""
    peer_model = PEERS[code](sex=0, age=40, weight=weight, height=175)
    doses = REGIMENS[regimen](weight)
    theirs = _peer_ng_ml(peer_model, doses)
    ours = _ours_ng_ml(_peer_rates(peer_model), doses)
    assert theirs.min() > 0
    np.testing.assert_allclose(ours, theirs, rtol=0.01)


@pytest.mark.parametrize(
    ("code", "weight"),
    [("domino", 45), ("domino", 70), ("domino", 110), ("clements250", 45),
     ("clements250", 70), ("clements250", 110), ("kamp2020", 70)],
)  # fmt: skip
def test_our_models_agree_with_opentivas_within_1_percent(
    code: str, weight: float
) -> None:
    """Our parameters and weight scaling against opentiva's own model classes.
    Kamp 2020 only at 70 kg: we scale clearances by (W/70)^0.75 as SimTIVA does
    and opentiva scales them linearly (ketamine-pk.md §1); see the next test."""
    doses = REGIMENS["infusion 0.5 mg/kg over 40 min"](weight)
    theirs = _peer_ng_ml(PEERS[code](sex=0, age=40, weight=weight, height=175), doses)
    ours = _ours_ng_ml(MODELS[code].rates_for(weight), doses)
    np.testing.assert_allclose(ours, theirs, rtol=0.01)


@pytest.mark.parametrize("weight", [45, 110])
def test_kamp_away_from_70_kg_differs_from_opentiva_only_by_clearance_scaling(
    weight: float,
) -> None:
    """Away from 70 kg the two Kamp encodings disagree (documented in
    ketamine-pk.md §1). Scaling opentiva's clearances by (W/70)^-0.25 turns its
    linear scaling into ours, and the curves then agree within 1%; unscaled they
    differ by more, so the difference is the scaling and nothing else."""
    peer_model = ketamine.Klamp(sex=0, age=40, weight=weight, height=175)
    doses = REGIMENS["infusion 0.5 mg/kg over 40 min"](weight)
    ours = _ours_ng_ml(MODELS["kamp2020"].rates_for(weight), doses)
    unscaled = _peer_ng_ml(peer_model, doses)
    assert np.max(np.abs(ours / unscaled - 1)) > 0.03
    to_allometric = (weight / 70) ** -0.25
    for name in ("k10", "k12", "k13", "k21", "k31"):  # each is a clearance ÷ a volume
        setattr(peer_model, name, getattr(peer_model, name) * to_allometric)
    np.testing.assert_allclose(ours, _peer_ng_ml(peer_model, doses), rtol=0.01)
