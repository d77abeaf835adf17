"""The clinician's caseload: who needs attention first (open alerts), and where each
patient stands on every instrument. A page costs the same few queries whatever the
clinic's size: one for the page of patients (alert counts annotated), one for their
measure summaries, one for their scheduled questionnaires' recent links."""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.models import MeasureSummary, QuestionnaireLink
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert

CURRENT = [Patient.Status.ACTIVE, Patient.Status.MAINTENANCE]
OVERDUE_AFTER_MISSES = 2
OVERDUE_LOOKBACK = dt.timedelta(days=180)

SORTS = {
    "alerts": "Open alerts first",
    "name": "Name",
    "phq9": "Latest PHQ-9, highest first",
    "change": "PHQ-9 change, least improved first",
}


@dataclass
class CaseloadRow:
    patient: Patient
    summaries: list[MeasureSummary] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)


def has_own_patients(user: User) -> bool:
    """Whether anyone current lists this clinician as physician or therapist."""
    return (
        Patient.objects.filter(status__in=CURRENT)
        .filter(Q(responsible_physician=user) | Q(responsible_therapist=user))
        .exists()
    )


def caseload_queryset(
    user: User, *, scope: str, phase: str, flag: str, query: str, sort: str
) -> QuerySet[Patient]:
    # Correlated counts (index safety_alert_patient_state), not a join and GROUP BY
    # over every current patient: the same answer, several times faster on SQLite.
    open_alerts = SafetyAlert.objects.filter(
        patient=OuterRef("pk"), state=SafetyAlert.State.OPEN
    )
    patients = Patient.objects.filter(
        status__in=[phase] if phase in CURRENT else CURRENT
    ).annotate(
        open_alert_count=_count(open_alerts),
        open_high_count=_count(open_alerts.filter(level=SafetyAlert.Level.HIGH)),
    )
    if scope == "mine":
        patients = patients.filter(
            Q(responsible_physician=user) | Q(responsible_therapist=user)
        )
    if query:
        patients = patients.search(query)
    if flag == "alerts":
        patients = patients.filter(open_alert_count__gt=0)
    phq9 = MeasureSummary.objects.filter(patient=OuterRef("pk"), instrument="phq9")
    if sort == "phq9":
        patients = patients.annotate(
            phq9_latest=Subquery(phq9.values("latest_total")[:1])
        )
    elif sort == "change":
        patients = patients.annotate(
            phq9_change=Subquery(phq9.values("percent_change")[:1])
        )
    order: list[str | OrderBy]
    if sort == "name":
        order = ["legal_family_name", "legal_given_name"]
    elif sort in {"phq9", "change"}:
        key = "phq9_latest" if sort == "phq9" else "phq9_change"
        order = [F(key).desc(nulls_last=True), "legal_family_name"]
    else:
        order = ["-open_high_count", "-open_alert_count", "legal_family_name"]
    return patients.order_by(*order, "pk")


def _count(alerts: QuerySet[SafetyAlert]) -> Coalesce:
    counted = (
        alerts.order_by().values("patient").annotate(n=Count("pk")).values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def caseload_rows(patients: list[Patient]) -> list[CaseloadRow]:
    rows = {p.pk: CaseloadRow(p) for p in patients}
    for summary in MeasureSummary.objects.filter(patient__in=rows).order_by(
        "instrument"
    ):
        rows[summary.patient_id].summaries.append(summary)
    now = timezone.now()
    links = (
        QuestionnaireLink.objects.filter(
            patient__in=rows,
            assignment__isnull=False,
            assignment__stopped_at__isnull=True,
            withdrawn_at__isnull=True,  # withdrawn by the clinic: not missed
            created_at__gte=now - OVERDUE_LOOKBACK,
        )
        .order_by("assignment_id", "due_on")
        .values_list(
            "patient_id", "assignment_id", "instrument", "used_at", "expires_at"
        )
    )
    streaks: dict[uuid.UUID, tuple[uuid.UUID, str, int]] = {}
    for patient_id, assignment_id, instrument, used_at, expires_at in links:
        count = streaks.get(assignment_id, (patient_id, instrument, 0))[2]
        if used_at is not None:
            count = 0
        elif expires_at <= now:
            count += 1
        streaks[assignment_id] = (patient_id, instrument, count)
    for owner, instrument, count in streaks.values():
        if count >= OVERDUE_AFTER_MISSES:
            rows[owner].overdue.append(instrument)
    return list(rows.values())
