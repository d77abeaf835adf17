"""Keeping MeasureSummary rows current and checking the relapse rule, inside the
transaction that stores a response."""

from django.http import HttpRequest
from django.utils import timezone

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import MeasureSummary, QuestionnaireResponse
from kapcare.measures.outcomes import OutcomeError, outcome
from kapcare.measures.relapse import Total, relapse_warning
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.website.models import get_clinic_profile

BOOSTER_SUGGESTION = "Consider booking a booster consultation."


def scored_totals(patient: Patient, instrument: str) -> list[Total]:
    rows = (
        QuestionnaireResponse.objects.filter(
            patient=patient, instrument=instrument, total__isnull=False
        )
        .exclude(status=QuestionnaireResponse.Status.ENTERED_IN_ERROR)
        .order_by("authored_at", "created_at")
        .values_list("authored_at", "total")
    )
    return [
        Total(timezone.localtime(at).date(), float(total))
        for at, total in rows
        if total is not None
    ]


def refresh_measure_summary(patient: Patient, instrument: str) -> list[Total]:
    """Recompute the patient's summary row for one instrument; returns the totals."""
    totals = scored_totals(patient, instrument)
    if not totals:
        MeasureSummary.objects.filter(patient=patient, instrument=instrument).delete()
        return totals
    definition = INSTRUMENTS[instrument]
    first, last = totals[0], totals[-1]
    try:
        result = outcome(instrument, baseline=first.value, final=last.value)
        percent, response, remission = (
            result.percent_change,
            result.response,
            result.remission,
        )
    except OutcomeError:
        percent = response = remission = None
    MeasureSummary.objects.update_or_create(
        patient=patient,
        instrument=instrument,
        defaults={
            "count": len(totals),
            "baseline_total": first.value,
            "baseline_on": first.on,
            "previous_total": totals[-2].value if len(totals) > 1 else None,
            "latest_total": last.value,
            "latest_on": last.on,
            "latest_band": definition.band_for(last.value) or "",
            "percent_change": percent,
            "response": response,
            "remission": remission,
        },
    )
    return totals


def check_relapse(
    request: HttpRequest | None, patient: Patient, instrument: str, totals: list[Total]
) -> SafetyAlert | None:
    """Raise one 'possible relapse' alert per response episode (clinic setting)."""
    clinic = get_clinic_profile()
    if not clinic.relapse_warning_enabled:
        return None
    warning = relapse_warning(
        instrument, totals, consecutive=clinic.relapse_consecutive_measures
    )
    if warning is None:
        return None
    key = f"{patient.pk}:{warning.episode_key}"
    if SafetyAlert.objects.filter(source_type="relapse", source_id=key).exists():
        return None
    name = INSTRUMENTS[instrument].name
    return raise_safety_alert(
        request=request,
        patient=patient,
        level=SafetyAlert.Level.MODERATE,
        trigger=SafetyAlert.Trigger.RELAPSE,
        reason=f"{warning.describe(name)}. {BOOSTER_SUGGESTION}"[:300],
        source_type="relapse",
        source_id=key,
        evidence={
            "instrument": instrument,
            "rules": list(warning.rules),
            "baseline": warning.baseline,
            "responded_on": warning.responded_on.isoformat(),
            "best_since_response": warning.best_since_response,
            "recent": [[t.on.isoformat(), t.value] for t in warning.recent],
            "consecutive": clinic.relapse_consecutive_measures,
            "suggestion": BOOSTER_SUGGESTION,
        },
    )
