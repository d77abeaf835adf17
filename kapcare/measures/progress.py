"""Each instrument's chart and baseline-to-latest outcome for one patient, as the
Measures tab, the portal and the progress report show them."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.safestring import mark_safe

from kapcare.measures.charts import Point, progress_svg
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.outcomes import Outcome, OutcomeError, outcome
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession


@dataclass(frozen=True)
class Progress:
    instrument: Instrument
    svg: str
    baseline: float
    latest: float
    outcome: Outcome | None
    first_on: dt.date
    latest_on: dt.date
    latest_band: str
    count: int


def progress_for(patient: Patient) -> list[Progress]:
    """Per instrument with scored results: the chart and baseline-to-latest outcome.

    One query for all of the patient's totals, whatever their number.
    """
    rows = (
        QuestionnaireResponse.objects.filter(patient=patient, total__isnull=False)
        .exclude(status=QuestionnaireResponse.Status.ENTERED_IN_ERROR)
        .order_by("authored_at")
        .values_list("instrument", "authored_at", "total", "band")
    )
    dosing_days = [
        timezone.localtime(at).date()
        for at in DosingSession.objects.filter(
            patient=patient, dose_started_at__isnull=False
        ).values_list("dose_started_at", flat=True)
    ]
    series: dict[str, list[Point]] = {}
    for code, authored_at, total, band in rows:
        if total is None:
            continue
        day = timezone.localtime(authored_at).date()
        series.setdefault(code, []).append(Point(day, float(total), band))
    progress = []
    for code, points in sorted(series.items()):
        instrument = INSTRUMENTS.get(code)
        if instrument is None:
            continue
        try:
            result: Outcome | None = outcome(
                code, baseline=points[0].total, final=points[-1].total
            )
        except (OutcomeError, KeyError):
            result = None
        # progress_svg escapes every text it writes; the markup itself is ours.
        svg = mark_safe(  # noqa: S308
            progress_svg(
                instrument, points, chart_id=f"chart-{code}", dosing_days=dosing_days
            )
        )
        progress.append(
            Progress(
                instrument,
                svg,
                points[0].total,
                points[-1].total,
                result,
                points[0].on,
                points[-1].on,
                points[-1].band or "",
                len(points),
            )
        )
    return progress
