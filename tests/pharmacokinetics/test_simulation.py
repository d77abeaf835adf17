"""The PK models and their exact simulation, checked against the figures in
../shared/clinical/ketamine-pk.md, an independent ODE solver, and physics
(superposition, mass balance)."""

import json
from io import StringIO
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from kapcare.pharmacokinetics.models import MODELS, get_model, ng_ml_to_micromolar
from kapcare.pharmacokinetics.simulate import (
    Bolus,
    Dose,
    Infusion,
    ScheduleError,
    amounts,
    concentrations,
    minutes_above,
    predict,
    rate_matrix,
)

STANDARD = [Infusion(0, 40, 0.5 * 70 / 40)]  # 0.5 mg/kg over 40 min, 70 kg


@pytest.mark.parametrize(
    ("model", "expected"), [("kamp2020", 253), ("domino", 240), ("clements250", 177)]
)
def test_end_of_infusion_matches_the_reference(model: str, expected: int) -> None:
    """ketamine-pk.md §0: each model's prediction at 40 min for 0.5 mg/kg/40 min."""
    [at_40] = predict(model, 70, STANDARD, [40]).ng_ml
    assert round(at_40) == expected


def test_derived_volumes_match_the_implementations() -> None:
    domino = get_model("domino").rates_for(70)
    assert round(domino.v1_litres, 2) == 4.41  # stanpumpR's test, ketamine-pk.md §2
    assert round(domino.v1_litres * domino.k12 / domino.k21, 2) == 10.57
    assert round(domino.v1_litres * domino.k13 / domino.k31, 1) == 178.2
    assert round(domino.v1_litres * domino.k10, 3) == 1.932
    kamp = get_model("kamp2020").rates_for(70)
    vss = kamp.v1_litres * (1 + kamp.k12 / kamp.k21 + kamp.k13 / kamp.k31)
    assert round(vss) == 238 and round(kamp.v1_litres * kamp.k10 * 60) == 84


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_exact_solution_agrees_with_an_ode_solver(model: str) -> None:
    rates = get_model(model).rates_for(83)
    schedule: list[Dose] = [
        Bolus(0, 10), Infusion(2, 38, 0.9), Bolus(50, 5), Infusion(60, 10, 0.3),
    ]  # fmt: skip
    times = np.linspace(0, 240, 97)
    exact = amounts([rates], schedule, times)[0]
    k = rate_matrix(rates)

    def rhs(t: float, a: Any) -> Any:
        rate = sum(
            d.mg_per_min
            for d in schedule
            if isinstance(d, Infusion) and d.start_min <= t < d.end_min
        )
        return k @ a + np.eye(len(a))[0] * rate

    state = np.zeros(k.shape[0])
    checkpoints = sorted({0, 2, 40, 50, 60, 70, 240})
    solved = []
    for start, end in pairwise(checkpoints):
        state = state + np.eye(len(state))[0] * sum(
            d.mg for d in schedule if isinstance(d, Bolus) and d.at_min == start
        )
        inside = times[(times >= start) & (times < end)]
        run = solve_ivp(
            rhs,
            (start, end),
            state,
            t_eval=inside,
            rtol=1e-10,
            atol=1e-12,
            method="LSODA",
        )
        solved.append(run.y.T)
        state = solve_ivp(
            rhs, (start, end), state, rtol=1e-10, atol=1e-12, method="LSODA"
        ).y[:, -1]
    reference = np.vstack([*solved, state[None, :]])
    assert np.allclose(exact, reference, rtol=1e-6, atol=1e-8)


def test_superposition_and_mass_balance() -> None:
    rates = get_model("kamp2020").rates_for(70)
    times = np.linspace(0, 300, 301)
    one = concentrations([rates], [Infusion(0, 40, 1.0)], times)
    two = concentrations([rates], [Infusion(0, 40, 2.0)], times)
    assert np.allclose(two, 2 * one)
    split = concentrations(
        [rates], [Infusion(0, 20, 1.0), Infusion(20, 20, 1.0)], times
    )
    assert np.allclose(split, one)
    bolus = concentrations([rates], [Bolus(0, 30)], times[times > 1])
    quick = concentrations([rates], [Infusion(0, 0.001, 30000)], times[times > 1])
    assert np.allclose(bolus, quick, rtol=1e-3)
    body = amounts([rates], [Bolus(0, 35)], [0.0, 60.0, 600.0])[0].sum(axis=1)
    assert body[0] == pytest.approx(35) and body[1] < 35 and body[2] < body[1]


def test_a_thousand_patients_at_once_agree_with_one_at_a_time() -> None:
    weights = np.linspace(45, 140, 1000)
    model = get_model("kamp2020")
    times = np.arange(0, 240 * 60 + 1, 10) / 60  # every 10 s for 4 h
    batch = concentrations([model.rates_for(w) for w in weights], STANDARD, times)
    assert batch.shape == (1000, 1441)
    single = concentrations([model.rates_for(weights[123])], STANDARD, times)[0]
    assert np.allclose(batch[123], single)
    assert np.all(np.isfinite(batch)) and np.all(batch >= -1e-9)


def test_time_above_a_concentration() -> None:
    above = minutes_above("kamp2020", 70, STANDARD, 100, 240)
    fine = np.linspace(0, 240, 240 * 600 + 1)
    values = predict("kamp2020", 70, STANDARD, list(fine)).ng_ml
    approx = (np.asarray(values) > 100).sum() * (fine[1] - fine[0])
    assert above == pytest.approx(approx, abs=0.01)
    assert minutes_above("kamp2020", 70, STANDARD, 10_000, 240) == 0


def test_units() -> None:
    assert round(ng_ml_to_micromolar(185), 3) == 0.778  # ketamine-pk.md §5


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ([Infusion(0, 40, 1), Infusion(30, 10, 1)], "overlap"),
        ([Bolus(0, -5)], "positive dose"),
        ([Infusion(-1, 5, 1)], "start"),
        ([], "empty"),
    ],
)
def test_bad_schedules_are_refused(schedule: list[Any], words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        predict("domino", 70, schedule, [10])


def test_weights_and_models_are_checked() -> None:
    with pytest.raises(ScheduleError, match="outside the adult range"):
        predict("kamp2020", 12, STANDARD, [10])
    with pytest.raises(ValueError, match="Unknown model"):
        predict("propofol", 70, STANDARD, [10])


@settings(max_examples=60, deadline=None)
@given(
    weight=st.floats(40, 150),
    doses=st.lists(
        st.tuples(st.floats(0, 200), st.floats(0.1, 60), st.floats(0.01, 5)),
        min_size=1,
        max_size=4,
    ),
)
def test_any_valid_schedule_gives_finite_non_negative_concentrations(
    weight: float, doses: list[tuple[float, float, float]]
) -> None:
    schedule = [Bolus(at, mg) for at, mg, _ in doses]
    for model in MODELS:
        values = predict(model, weight, schedule, list(np.linspace(0, 300, 31))).ng_ml
        assert all(np.isfinite(values)) and min(values) >= -1e-9


def run_cli(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("pk", "simulate", *args, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_the_command_line_prints_json() -> None:
    result = run_cli(
        "--model", "kamp2020", "--weight", "70", "--dose-mg-per-kg", "0.5",
        "--minutes", "40", "--at", "20,40,60,80,120,240",
    )  # fmt: skip
    assert result["model"] == "kamp2020" and result["unit"] == "ng/mL"
    assert result["times_min"] == [20, 40, 60, 80, 120, 240]
    assert round(result["concentration"][1]) == 253
    schedule = json.dumps(
        [
            {"bolus_mg": 10, "at_min": 0},
            {"infusion_mg_per_min": 0.8, "start_min": 0, "minutes": 40},
        ]
    )
    multi = run_cli(
        "--model", "domino", "--weight", "80", "--at", "10,40", "--schedule", schedule
    )
    assert len(multi["concentration"]) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--model", "kamp2020", "--weight", "-70", "--dose-mg-per-kg", "0.5", "--at", "10"], "positive number"),
        (["--model", "nope", "--weight", "70", "--dose-mg-per-kg", "0.5", "--at", "10"], "Unknown model"),
        (["--model", "domino", "--weight", "70", "--at", "10", "--schedule",
          '[{"infusion_mg_per_min": 1, "start_min": 0, "minutes": 40}, {"infusion_mg_per_min": 1, "start_min": 20, "minutes": 5}]'], "overlap"),
        (["--model", "domino", "--weight", "70", "--at", "ten", "--dose-mg-per-kg", "0.5"], "comma-separated"),
        (["--model", "domino", "--weight", "70", "--at", "10", "--schedule", "{oops"], "not JSON"),
    ],
)  # fmt: skip
def test_bad_command_lines_exit_with_code_2(args: list[str], words: str) -> None:
    with pytest.raises(CommandError, match=words) as refused:
        call_command("pk", "simulate", *args, stdout=StringIO())
    assert refused.value.returncode == 2


@pytest.mark.parametrize("code", MODELS)
def test_the_plasma_shortcut_equals_the_central_amount_over_its_volume(
    code: str,
) -> None:
    """concentrations() maps back only the central compartment; it must equal
    amounts()'s central column ÷ V1 (mg/L -> ng/mL)."""
    rates = [MODELS[code].rates_for(w) for w in (50.0, 90.0)]
    schedule: list[Dose] = [Bolus(0, 10), Infusion(5, 40, 0.8), Infusion(60, 10, 2.0)]
    times = np.linspace(0, 240, 97)
    central = amounts(rates, schedule, times)[:, :, 0]
    volumes = np.array([r.v1_litres for r in rates])[:, None]
    np.testing.assert_allclose(
        concentrations(rates, schedule, times), central / volumes * 1000, rtol=1e-12
    )
