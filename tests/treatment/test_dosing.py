from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.treatment.dosing import DoseError, DoseInput, calculate_dose

D = Decimal


def iv(**overrides: object) -> DoseInput:
    values: dict[str, object] = {
        "weight_kg": D("70"), "dose_mg_per_kg": D("0.5"), "fixed_dose_mg": None,
        "concentration_mg_per_ml": D("50"), "bag_volume_ml": D("100"),
        "infusion_minutes": 40, "max_mg_per_kg": D("1.0"), "max_dose_mg": None,
    }  # fmt: skip
    values.update(overrides)
    return DoseInput(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weight", "per_kg", "conc", "bag", "minutes", "mg", "ml", "rate"),
    [
        # 70 kg × 0.5 mg/kg = 35 mg; 35 ÷ 50 = 0.7 mL; (100 + 0.7) mL over 40 min.
        ("70", "0.5", "50", "100", 40, "35.0", "0.70", "151.1"),
        # 82.4 kg × 0.5 = 41.2 mg; 41.2 ÷ 10 = 4.12 mL; 104.12 mL × 60 ÷ 40 = 156.18.
        ("82.4", "0.5", "10", "100", 40, "41.2", "4.12", "156.2"),
        # 55 kg × 0.75 = 41.25 -> 41.3 mg (half up); 41.3 ÷ 50 = 0.826 -> 0.83 mL.
        ("55", "0.75", "50", "250", 40, "41.3", "0.83", "376.2"),
        # 120 kg × 1.0 = 120 mg; 120 ÷ 100 = 1.2 mL; 51.2 mL over 60 min.
        ("120", "1.0", "100", "50", 60, "120.0", "1.20", "51.2"),
    ],
)
def test_it_works_out_mg_ml_and_pump_rate(
    weight: str, per_kg: str, conc: str, bag: str, minutes: int, mg: str, ml: str,
    rate: str,
) -> None:  # fmt: skip
    result = calculate_dose(
        iv(
            weight_kg=D(weight), dose_mg_per_kg=D(per_kg),
            concentration_mg_per_ml=D(conc), bag_volume_ml=D(bag),
            infusion_minutes=minutes,
        )
    )  # fmt: skip
    assert result.dose_mg == D(mg)
    assert result.draw_volume_ml == D(ml)
    assert result.pump_rate_ml_per_h == D(rate)


def test_it_shows_the_working_with_units() -> None:
    result = calculate_dose(iv())
    assert result.working == (
        "Dose: 70 kg × 0.5 mg/kg = 35.0 mg",
        "Volume to draw: 35.0 mg ÷ 50 mg/mL = 0.70 mL",
        "Volume in the bag: 100 mL + 0.70 mL = 100.70 mL",
        "Pump rate: 100.70 mL ÷ (40 min ÷ 60) = 151.1 mL/h",
    )


def test_a_dose_above_the_protocol_maximum_is_refused() -> None:
    with pytest.raises(DoseError, match=r"above this protocol's maximum of 1.0 mg/kg"):
        calculate_dose(iv(dose_mg_per_kg=D("1.1")))


def test_a_fixed_dose_above_the_maximum_is_refused() -> None:
    with pytest.raises(DoseError, match="84 mg"):
        calculate_dose(
            iv(
                weight_kg=None, dose_mg_per_kg=None, fixed_dose_mg=D("112"),
                max_mg_per_kg=None, max_dose_mg=D("84"), concentration_mg_per_ml=None,
                bag_volume_ml=None, infusion_minutes=None,
            )
        )  # fmt: skip


def test_a_fixed_dose_needs_no_weight() -> None:
    result = calculate_dose(
        iv(
            weight_kg=None, dose_mg_per_kg=None, fixed_dose_mg=D("56"),
            max_mg_per_kg=None, max_dose_mg=D("84"), concentration_mg_per_ml=None,
            bag_volume_ml=None, infusion_minutes=None,
        )
    )  # fmt: skip
    assert result.dose_mg == D("56.0")
    assert result.draw_volume_ml is None
    assert result.pump_rate_ml_per_h is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weight_kg": None}, "weight"),
        ({"weight_kg": D("0")}, "Weight must be more than zero"),
        ({"concentration_mg_per_ml": D("-5")}, "Concentration must be more than zero"),
        ({"infusion_minutes": 0}, "Infusion time must be more than zero"),
        ({"concentration_mg_per_ml": None}, "concentration"),
        ({"dose_mg_per_kg": None}, "no prescribed dose"),
    ],
)
def test_bad_input_gets_a_clear_error(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(DoseError, match=message):
        calculate_dose(iv(**overrides))


@given(
    weight=st.decimals(min_value=20, max_value=350, places=1),
    per_kg=st.decimals(min_value=D("0.1"), max_value=D("1.0"), places=2),
    conc=st.sampled_from([D("10"), D("50"), D("100")]),
)
def test_the_dose_is_weight_times_mg_per_kg_to_a_tenth(
    weight: Decimal, per_kg: Decimal, conc: Decimal
) -> None:
    result = calculate_dose(
        iv(weight_kg=weight, dose_mg_per_kg=per_kg, concentration_mg_per_ml=conc)
    )
    assert abs(result.dose_mg - weight * per_kg) <= D("0.05")
    assert result.draw_volume_ml is not None
    assert abs(result.draw_volume_ml * conc - result.dose_mg) <= D("0.005") * conc
    assert result.dose_mg <= weight * D("1.0") + D("0.05")


def test_a_dose_that_rounds_to_zero_is_refused() -> None:
    """20 kg × 0.001 mg/kg = 0.02 mg, which rounds to 0.0 mg: no infusion of nothing."""
    with pytest.raises(DoseError, match="rounds to 0 mg"):
        calculate_dose(iv(weight_kg=Decimal("20"), dose_mg_per_kg=Decimal("0.001")))
