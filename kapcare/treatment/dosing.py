"""The dose calculator: weight and prescription to milligrams, millilitres and pump rate.

Plain arithmetic with units, shown line by line so a second nurse can check it. The
doses themselves (mg/kg, the protocol's maximum) come from the protocol template,
whose sources are on that template (see kapcare/treatment/protocols.py).

Ketamine vial strengths are stated as ketamine base, so a mg/kg dose is base too
(Ketalar label, quoted in ../shared/clinical/ketamine-pk.md §5).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MG = Decimal("0.1")
ML = Decimal("0.01")
RATE = Decimal("0.1")


class DoseError(ValueError):
    """The inputs cannot give a safe dose; the message says which input and why."""


@dataclass(frozen=True)
class DoseInput:
    weight_kg: Decimal | None
    dose_mg_per_kg: Decimal | None
    fixed_dose_mg: Decimal | None
    concentration_mg_per_ml: Decimal | None
    bag_volume_ml: Decimal | None
    infusion_minutes: int | None
    max_mg_per_kg: Decimal | None
    max_dose_mg: Decimal | None


@dataclass(frozen=True)
class DoseCalculation:
    dose_mg: Decimal
    draw_volume_ml: Decimal | None
    total_volume_ml: Decimal | None
    pump_rate_ml_per_h: Decimal | None
    working: tuple[str, ...]


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _positive(value: Decimal | int | None, label: str) -> None:
    if value is not None and value <= 0:
        raise DoseError(f"{label} must be more than zero.")


def calculate_dose(given: DoseInput) -> DoseCalculation:
    """Dose (mg), volume to draw (mL) and pump rate (mL/h), with the working.

    Weight-based: dose = weight × mg/kg. Fixed-dose protocols (esketamine devices)
    take the prescribed mg. The volume to draw is dose ÷ concentration; for an
    infusion it is added to the bag, and the pump runs (bag + drawn volume) ÷ hours.
    The protocol's maximum (mg/kg or mg) is a hard stop.
    """
    for value, label in (
        (given.weight_kg, "Weight"),
        (given.dose_mg_per_kg, "Prescribed dose"),
        (given.fixed_dose_mg, "Prescribed dose"),
        (given.concentration_mg_per_ml, "Concentration"),
        (given.bag_volume_ml, "Bag volume"),
        (given.infusion_minutes, "Infusion time"),
    ):
        _positive(value, label)
    working: list[str] = []
    if given.dose_mg_per_kg is not None:
        if given.weight_kg is None:
            raise DoseError("Enter today's weight in kg.")
        if (
            given.max_mg_per_kg is not None
            and given.dose_mg_per_kg > given.max_mg_per_kg
        ):
            raise DoseError(
                f"{given.dose_mg_per_kg} mg/kg is above this protocol's maximum of "
                f"{given.max_mg_per_kg} mg/kg."
            )
        dose = _round(given.weight_kg * given.dose_mg_per_kg, MG)
        working.append(
            f"Dose: {given.weight_kg} kg × {given.dose_mg_per_kg} mg/kg = {dose} mg"
        )
    elif given.fixed_dose_mg is not None:
        dose = _round(given.fixed_dose_mg, MG)
        working.append(f"Dose: {dose} mg (fixed dose as prescribed)")
    else:
        raise DoseError("The course has no prescribed dose.")
    if dose <= 0:
        raise DoseError(
            "The dose rounds to 0 mg: check the weight and the prescribed dose."
        )
    if given.max_dose_mg is not None and dose > given.max_dose_mg:
        raise DoseError(
            f"{dose} mg is above this protocol's maximum of {given.max_dose_mg} mg."
        )
    draw = total = rate = None
    if given.concentration_mg_per_ml is not None:
        draw = _round(dose / given.concentration_mg_per_ml, ML)
        working.append(
            f"Volume to draw: {dose} mg ÷ {given.concentration_mg_per_ml} mg/mL = {draw} mL"
        )
    if given.bag_volume_ml is not None and given.infusion_minutes is not None:
        if draw is None:
            raise DoseError("Enter the drug concentration to work out the pump rate.")
        total = _round(given.bag_volume_ml + draw, ML)
        working.append(
            f"Volume in the bag: {given.bag_volume_ml} mL + {draw} mL = {total} mL"
        )
        rate = _round(total * 60 / given.infusion_minutes, RATE)
        working.append(
            f"Pump rate: {total} mL ÷ ({given.infusion_minutes} min ÷ 60) = {rate} mL/h"
        )
    return DoseCalculation(
        dose_mg=dose,
        draw_volume_ml=draw,
        total_volume_ml=total,
        pump_rate_ml_per_h=rate,
        working=tuple(working),
    )
