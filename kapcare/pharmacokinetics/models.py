"""Published population pharmacokinetic models for racemic ketamine (pure Python).

Every number comes from ../shared/clinical/ketamine-pk.md ("the reference"), §1,
which names its sources; the caveats below are the reference's own. All three
models predict **arterial** plasma concentrations (the reference, §0): measured
venous values after an infusion are lower.
"""

from collections.abc import Callable
from dataclasses import dataclass

KETAMINE_BASE_MW = 237.73  # g/mol, C13H16ClNO (the reference, §5)


@dataclass(frozen=True)
class Rates:
    """A linear mammillary model for one patient: central volume (L) and the
    first-order rate constants (per minute). Two-compartment models have k13 =
    k31 = 0."""

    v1_litres: float
    k10: float
    k12: float
    k21: float
    k13: float = 0.0
    k31: float = 0.0

    @property
    def compartments(self) -> int:
        return 3 if self.k13 > 0 else 2


@dataclass(frozen=True)
class PkModel:
    code: str
    name: str
    citation: str
    population: str
    weight_scaling: str
    caveats: tuple[str, ...]
    rates_for: Callable[[float], Rates]
    short_name: str = ""
    min_weight_kg: float = 40.0
    max_weight_kg: float = 150.0


def _kamp(weight_kg: float) -> Rates:
    """Kamp 2020: V1 25, V2 56, V3 157 L per 70 kg (linear in weight); CL 84,
    Q2 161, Q3 79 L/h per 70 kg, scaled by (W/70)^0.75 as SimTIVA does (opentiva
    scales linearly; the two agree at 70 kg; the reference, §1)."""
    size = weight_kg / 70
    flow = size**0.75 / 60  # L/h per 70 kg -> L/min for this patient
    v1, v2, v3 = 25 * size, 56 * size, 157 * size
    cl, q2, q3 = 84 * flow, 161 * flow, 79 * flow
    return Rates(v1, k10=cl / v1, k12=q2 / v1, k21=q2 / v2, k13=q3 / v1, k31=q3 / v3)


def _domino(weight_kg: float) -> Rates:
    """Domino: V1 0.063 L/kg; k10 0.4381, k12 0.5921, k13 0.5900, k21 0.2470,
    k31 0.0146 per min (the reference, §1)."""
    return Rates(
        0.063 * weight_kg, k10=0.4381, k12=0.5921, k21=0.2470, k13=0.5900, k31=0.0146
    )


def _clements250(weight_kg: float) -> Rates:
    """Clements and Nimmo 1981, 250 µg/kg arm: V1 1.7522 L/kg; k10 0.0109,
    k12 0.0186, k21 0.0137 per min (the reference, §1)."""
    return Rates(1.7522 * weight_kg, k10=0.0109, k12=0.0186, k21=0.0137)


ARTERIAL = (
    "Predicts arterial plasma concentration; venous values after an infusion are lower."
)

MODELS: dict[str, PkModel] = {
    "kamp2020": PkModel(
        code="kamp2020",
        name="Kamp 2020 (three compartments)",
        citation="Kamp J et al. Ketamine pharmacokinetics: a systematic review of the "
        "literature, meta-analysis, and population analysis. Anesthesiology "
        "2020;133:1192.",
        population="Adults; pooled from 14 raw data sets.",
        weight_scaling="Volumes linear in weight; clearances (weight/70)^0.75.",
        caveats=(
            ARTERIAL,
            "Typical values from two independent implementations (opentiva, SimTIVA), "
            "not read from the paper's table.",
            "The published venous-delay compartments are left out, as in both "
            "implementations.",
        ),
        rates_for=_kamp,
        short_name="Kamp 2020",
    ),
    "domino": PkModel(
        code="domino",
        name="Domino (three compartments)",
        citation="Domino EF et al. (attributed to Anesth Analg 1982 by opentiva and "
        "to Clin Pharmacol Ther 1984;36:645 by stanpumpR; primary not read).",
        population="Adults, racemic ketamine.",
        weight_scaling="Central volume linear in weight; rate constants fixed.",
        caveats=(
            ARTERIAL,
            "The provenance of the parameter set is unverified (attribution conflict).",
        ),
        rates_for=_domino,
        short_name="Domino",
    ),
    "clements250": PkModel(
        code="clements250",
        name="Clements and Nimmo 1981, 250 µg/kg (two compartments)",
        citation="Clements JA, Nimmo WS. Br J Anaesth 1981;53:27 (parameters as "
        "implemented by opentiva; primary not read).",
        population="Adult volunteers.",
        weight_scaling="Central volume linear in weight; rate constants fixed.",
        caveats=(
            ARTERIAL,
            "How the parameters were derived from the paper is not documented.",
        ),
        rates_for=_clements250,
        short_name="Clements 1981",
    ),
}

# The published mean venous concentration at the end of 0.5 mg/kg over 40 min in
# treatment-resistant depression (Zanos 2018, Table 1, citing Zarate 2006; the
# reference, §3): a reference mark, not a target.
REFERENCE_END_OF_INFUSION_NG_ML = 185.0
REFERENCE_CITATION = (
    "Zanos P et al. Pharmacol Rev 2018;70:621, Table 1 (Zarate 2006 cohort): mean "
    "venous ketamine 185 ng/mL at the end of 0.5 mg/kg over 40 min."
)


def get_model(code: str) -> PkModel:
    try:
        return MODELS[code]
    except KeyError:
        raise ValueError(
            f"Unknown model {code!r}; choose from {', '.join(sorted(MODELS))}."
        ) from None


def ng_ml_to_micromolar(ng_ml: float) -> float:
    """µM = (ng/mL) / 237.73 (the reference, §5)."""
    return ng_ml / KETAMINE_BASE_MW
