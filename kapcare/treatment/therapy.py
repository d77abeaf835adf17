"""Integration sessions (therapist) and the patient's mindfulness log: the writes,
each one transaction with its audit event."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.lib.concurrency import check_unchanged
from kapcare.patients.models import Patient
from kapcare.treatment.charts import weekly_minutes_svg
from kapcare.treatment.mindfulness import Week, streak, week_start, weekly_totals
from kapcare.treatment.models import (
    DosingSession,
    IntegrationSession,
    MindfulnessPractice,
)

NOTES_PERMISSION = "treatment.view_psychotherapy_notes"
WRITE_PERMISSION = "treatment.add_integrationsession"
FIELDS = ("held_on", "intentions", "insights", "themes", "goals", "homework")


class TherapyError(ValueError):
    """The change cannot be made as asked; the message says why."""


def _audit(
    request: HttpRequest | None,
    session: IntegrationSession,
    summary: str,
    *,
    action: str = Action.UPDATE,
    with_note: bool = False,
) -> None:
    record_event(
        request=request,
        action=action,
        patient=session.patient,
        information=Information.PSYCHOTHERAPY if with_note else Information.CLINICAL,
        object_type="integration_session",
        object_id=session.pk,
        summary=summary,
    )


def start_integration_session(
    *,
    request: HttpRequest | None,
    dosing_session: DosingSession,
    values: dict[str, Any],
    psychotherapy_note: str,
    by: User,
) -> IntegrationSession:
    """Write the integration session that follows a dose, within that course."""
    if not by.has_perm(WRITE_PERMISSION):
        raise TherapyError("Only a therapist writes integration sessions.")
    if dosing_session.dose_started_at is None:
        raise TherapyError("No dose was given in that session.")
    held_on: date = values["held_on"]
    if held_on < timezone.localtime(dosing_session.dose_started_at).date():
        raise TherapyError("An integration session follows its dose; check the date.")
    with transaction.atomic():
        session = IntegrationSession.objects.create(
            patient_id=dosing_session.patient_id, dosing_session=dosing_session,
            therapist=by, psychotherapy_note=psychotherapy_note,
            **{k: values[k] for k in FIELDS},
        )  # fmt: skip
        _audit(
            request, session, f"Wrote an integration session after dose "
            f"{dosing_session.number}", action=Action.CREATE,
            with_note=bool(psychotherapy_note),
        )  # fmt: skip
    return session


def update_integration_session(
    *,
    request: HttpRequest | None,
    session: IntegrationSession,
    values: dict[str, Any],
    psychotherapy_note: str,
    sign: bool,
    by: User,
    seen: str | None = None,
) -> IntegrationSession:
    """Change a draft, and sign it if asked; a signed session is read-only. `seen`
    (the draft's version when the form opened) refuses a save over a newer draft,
    say one saved from another tab."""
    with transaction.atomic():
        fresh = IntegrationSession.objects.select_for_update().get(pk=session.pk)
        if fresh.is_signed:
            raise TherapyError("This integration session is signed and read-only.")
        if fresh.therapist_id != by.pk:
            raise TherapyError("Only the therapist who wrote it may change it.")
        if seen is not None:
            check_unchanged(
                seen, [fresh.updated_at], what="this draft",
                changed_by=f"you ({by.display_name}), in another window or tab",
            )  # fmt: skip
        for name in FIELDS:
            setattr(fresh, name, values[name])
        fresh.psychotherapy_note = psychotherapy_note
        fresh.updated_at = timezone.now()
        if sign:
            fresh.signed_at = fresh.updated_at
        fresh.save()
        fresh.patient = session.patient
        _audit(
            request, fresh, "Signed an integration session" if sign
            else "Changed an integration session", with_note=True,
        )  # fmt: skip
    return fresh


def log_mindfulness(
    *, request: HttpRequest | None, patient: Patient, values: dict[str, Any],
    submission_key: str,
) -> tuple[MindfulnessPractice, bool]:  # fmt: skip
    """The patient logs a practice. A resubmitted form returns the first entry."""
    if values["practised_on"] > timezone.localdate():
        raise TherapyError("That date is in the future.")
    existing = MindfulnessPractice.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.patient_id != patient.pk:
            raise TherapyError("That form was already used; open the page again.")
        return existing, False
    try:
        with transaction.atomic():
            entry = MindfulnessPractice.objects.create(
                patient=patient, submission_key=submission_key, **values
            )
            record_event(
                request=request, action=Action.CREATE, patient=patient,
                information=Information.CLINICAL, object_type="mindfulness_practice",
                object_id=entry.pk,
                summary=f"Logged {entry.minutes} min of {entry.get_practice_display().lower()}",
            )  # fmt: skip
    except IntegrityError:
        raced = MindfulnessPractice.objects.filter(
            submission_key=submission_key, patient=patient
        ).first()
        if raced is None:
            raise TherapyError(
                "That form was already used; open the page again."
            ) from None
        return raced, False
    return entry, True


@dataclass(frozen=True)
class MindfulnessSummary:
    weeks: list[Week]
    streak: int
    recent: list[MindfulnessPractice]
    chart: str


def mindfulness_summary(patient: Patient, *, weeks: int = 8) -> MindfulnessSummary:
    """The last weeks of practice, the streak and the latest entries (one query)."""
    today = timezone.localdate()
    since = week_start(today) - timedelta(weeks=weeks - 1)
    entries = list(
        MindfulnessPractice.objects.filter(
            patient=patient, practised_on__gte=min(since, today - timedelta(days=366))
        ).order_by("-practised_on", "-created_at")
    )
    totals = weekly_totals(
        ((e.practised_on, e.minutes) for e in entries), today=today, weeks=weeks
    )
    chart = weekly_minutes_svg(
        [(f"{w.starts_on:%b %-d}", w.minutes) for w in totals],
        chart_id=f"mindful-{patient.pk}",
    )
    return MindfulnessSummary(
        weeks=totals,
        streak=streak((e.practised_on for e in entries), today=today),
        recent=entries[:5],
        chart=chart,
    )
