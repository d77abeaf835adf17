"""The chart timeline: doses, adverse events, integration sessions and scores."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from kapcare.measures.models import QuestionnaireResponse
from kapcare.patients.models import Patient
from kapcare.treatment.models import AdverseEvent, DosingSession, IntegrationSession


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str
    url: str
    has_time: bool = True


def _total(value: Decimal | None) -> str:
    """A score as people write it: 14, 14.5 (never 14.000)."""
    return "" if value is None else format(value.normalize(), "f")


def timeline_for(patient: Patient, since: datetime | None) -> list[TimelineEntry]:
    """Doses, adverse events, integration sessions and scores, newest first (four
    queries whatever the length)."""
    entries: list[TimelineEntry] = []
    sessions = DosingSession.objects.filter(patient=patient).select_related(
        "course__protocol"
    )
    events = AdverseEvent.objects.filter(patient=patient).select_related("session")
    integrations = IntegrationSession.objects.filter(patient=patient)
    scores = QuestionnaireResponse.objects.filter(
        patient=patient, total__isnull=False
    ).exclude(status=QuestionnaireResponse.Status.ENTERED_IN_ERROR)
    if since is not None:
        sessions = sessions.filter(opened_at__gte=since)
        events = events.filter(occurred_at__gte=since)
        integrations = integrations.filter(held_on__gte=since.date())
        scores = scores.filter(authored_at__gte=since)
    for s in sessions:
        per_kg = f" ({s.dose_mg_per_kg.normalize()} mg/kg)" if s.dose_mg_per_kg else ""
        entries.append(
            TimelineEntry(
                s.dose_started_at or s.opened_at,
                "dose",
                f"Dosing session {s.number}: "
                + (f"{_given(s)}{per_kg}" if s.dose_started_at else "no dose given"),
                f"{s.course.protocol} · {s.get_status_display()}",
                s.get_absolute_url(),
            )
        )
    for e in events:
        entries.append(
            TimelineEntry(
                e.occurred_at,
                "adverse-event",
                f"Adverse event: {e.get_kind_display()}",
                f"{e.get_severity_display()}{', serious' if e.is_serious else ''}; "
                f"{e.get_outcome_display().lower()}",
                e.session.get_absolute_url(),
            )
        )
    for i in integrations:
        at = timezone.make_aware(datetime.combine(i.held_on, datetime.min.time()))
        entries.append(
            TimelineEntry(
                at,
                "integration",
                "Integration session",
                ", ".join(i.theme_list) or ("signed" if i.is_signed else "draft"),
                i.get_absolute_url(),
                has_time=False,
            )
        )
    for r in scores:
        entries.append(
            TimelineEntry(
                r.authored_at,
                "score",
                f"{r.instrument_name}: {_total(r.total)}",
                r.band,
                "",
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _given(session: DosingSession) -> str:
    if session.dose_given_mg is not None:
        return (
            f"{session.dose_given_mg} of {session.dose_mg} mg (infusion stopped early)"
        )
    return f"{session.dose_mg} mg"
