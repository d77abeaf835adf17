"""The predicted plasma concentration shown in a dosing session and on the model
comparison page, from kapcare.pharmacokinetics (published models, exact
simulation). Predictions only: no effect-site concentration and no antidepressant
target is shown, as none is validated (../shared/clinical/ketamine-pk.md §5-6)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.utils import timezone

from kapcare.pharmacokinetics.charts import Curve, concentration_svg
from kapcare.pharmacokinetics.models import (
    MODELS,
    REFERENCE_CITATION,
    REFERENCE_END_OF_INFUSION_NG_ML,
    PkModel,
    ng_ml_to_micromolar,
)
from kapcare.pharmacokinetics.simulate import Infusion, concentrations
from kapcare.treatment.models import DosingSession, Drug, Route

DEFAULT_MODEL = "kamp2020"
TABLE_MINUTES = (20, 40, 60, 80, 120, 240)
REFERENCE_LABEL = "185 ng/mL: published venous mean"


@dataclass
class Prediction:
    svg: str = ""
    message: str = ""
    note: str = ""
    models: list[PkModel] = field(default_factory=list)
    rows: list[tuple[int, list[tuple[float, float]]]] = field(default_factory=list)
    reference_citation: str = REFERENCE_CITATION


def _curves(
    codes: list[str], weight: float, schedule: list[Infusion]
) -> tuple[list[Curve], list[tuple[int, list[tuple[float, float]]]]]:
    horizon = max(240.0, max(dose.end_min for dose in schedule) + 200.0)
    times = np.arange(0, horizon * 6 + 1) / 6  # every 10 s
    curves, table = [], []
    at = np.array(TABLE_MINUTES, dtype=float)
    per_model = []
    for code in codes:
        model = MODELS[code]
        rates = [model.rates_for(weight)]
        values = concentrations(rates, schedule, times)[0]
        curves.append(Curve(model.short_name, times.tolist(), values.tolist()))
        per_model.append(concentrations(rates, schedule, at)[0])
    for n, minute in enumerate(TABLE_MINUTES):
        table.append(
            (
                minute,
                [(float(v[n]), ng_ml_to_micromolar(float(v[n]))) for v in per_model],
            )
        )
    return curves, table


def planned_schedule(dose_mg: float, minutes: float) -> list[Infusion]:
    return [Infusion(0.0, minutes, dose_mg / minutes)]


def given_schedule(session: DosingSession) -> tuple[list[Infusion], str]:
    """The infusion as the pump gave it, in minutes from the dose start, and what
    the curve assumes from now on."""
    dose_mg, minutes = float(session.dose_mg or 0), float(session.infusion_minutes or 0)
    state = session.infusion
    if state is None or session.dose_started_at is None:
        return planned_schedule(dose_mg, minutes), "The planned infusion."
    start = session.dose_started_at
    schedule = [
        Infusion(
            (run.start - start).total_seconds() / 60,
            (run.end - run.start).total_seconds() / 60,
            run.mg_per_min,
        )
        for run in state.runs
        if run.end > run.start
    ]
    given = f"{state.given_mg:.1f} mg of {dose_mg:g} mg"
    if state.stopped_at is not None:
        note = f"Stopped at {timezone.localtime(state.stopped_at):%H:%M} after about {given}."
    elif state.paused_since is not None:
        note = (
            f"Paused since {timezone.localtime(state.paused_since):%H:%M} after about "
            f"{given}; the curve assumes the pump stays paused and redraws when it restarts."
        )
    elif state.last_event_at is not None:
        note = "Follows the pump's recorded pauses and rate changes."
    else:
        note = "The infusion as planned, from its real start."
    return schedule, note


def _in_range(weight: float) -> bool:
    return all(m.min_weight_kg <= weight <= m.max_weight_kg for m in MODELS.values())


def session_prediction(session: DosingSession, now: datetime) -> Prediction:
    protocol = session.course.protocol
    if protocol.drug != Drug.KETAMINE or protocol.route != Route.IV:
        return Prediction(
            message=f"No published model is used here for {protocol.get_drug_display().lower()} "
            f"by {protocol.get_route_display().lower()}; no curve is shown."
        )
    if not (session.dose_mg and session.infusion_minutes and session.weight_kg):
        return Prediction(
            message="The predicted curve appears once the dose is calculated."
        )
    weight = float(session.weight_kg)
    if not _in_range(weight):
        return Prediction(
            message=f"{weight:g} kg is outside the adult range the models are used for."
        )
    schedule, note = given_schedule(session)
    if not schedule:
        return Prediction(message=f"No drug was given by the pump. {note}")
    curves, rows = _curves([DEFAULT_MODEL], weight, schedule)
    now_minute = None
    if session.dose_started_at is not None and session.is_open:
        now_minute = (now - session.dose_started_at).total_seconds() / 60
    svg = concentration_svg(
        curves, chart_id=f"pk-{session.pk}", reference_ng_ml=REFERENCE_END_OF_INFUSION_NG_ML,
        reference_label=REFERENCE_LABEL, now_minute=now_minute,
    )  # fmt: skip
    return Prediction(svg=svg, models=[MODELS[DEFAULT_MODEL]], rows=rows, note=note)


def compare_models(weight: float, dose_mg_per_kg: Decimal, minutes: int) -> Prediction:
    if not _in_range(weight):
        return Prediction(
            message=f"{weight:g} kg is outside the adult range the models are used for."
        )
    codes = sorted(MODELS, key=lambda c: c != DEFAULT_MODEL)
    schedule = planned_schedule(float(dose_mg_per_kg) * weight, float(minutes))
    curves, rows = _curves(codes, weight, schedule)
    svg = concentration_svg(
        curves, chart_id="pk-compare", reference_ng_ml=REFERENCE_END_OF_INFUSION_NG_ML,
        reference_label=REFERENCE_LABEL,
    )  # fmt: skip
    return Prediction(svg=svg, models=[MODELS[c] for c in codes], rows=rows)
