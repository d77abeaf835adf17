"""Synthetic measures for the demo clinic: score histories, schedules, an open
questionnaire, an on-call shift and a safety plan (only when none exist yet)."""

import random
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireResponse
from kapcare.measures.schedules import Repeat
from kapcare.measures.services import (
    send_due_for_assignment,
    submit_questionnaire_response,
)
from kapcare.patients.demo import DEMO_DOMAIN
from kapcare.patients.models import Patient
from kapcare.safety.models import OnCallShift, SafetyPlanVersion

HISTORIES = 40
WEEKS = 10


def _answers(total: int, items: int) -> list[int | None]:
    return [min(3, max(0, total - 3 * i)) for i in range(items)]


def seed_demo_measures(seed: int = 3) -> int:
    """Give the first current patients a weekly PHQ-9 and GAD-7 history through the
    real service (so summaries, relapse warnings and alerts are real). Returns the
    number of responses stored; 0 when the clinic already has measures."""
    if QuestionnaireResponse.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    nurse = User.objects.get(email=f"nurse@{DEMO_DOMAIN}")
    physician = User.objects.get(email=f"physician@{DEMO_DOMAIN}")
    portal = Patient.objects.filter(user__email=f"patient@{DEMO_DOMAIN}").first()
    current = list(
        Patient.objects.filter(
            status__in=[Patient.Status.ACTIVE, Patient.Status.MAINTENANCE]
        ).order_by("mrn")[:HISTORIES]
    )
    if portal is not None and portal not in current:
        current.insert(0, portal)
    start = timezone.now() - timedelta(weeks=WEEKS)
    stored = 0
    with transaction.atomic():
        for index, patient in enumerate(current):
            phq9 = rng.randint(15, 24)
            relapses = index % 7 == 3
            for week in range(WEEKS):
                if relapses and week >= WEEKS - 2:
                    phq9 = min(27, phq9 + rng.randint(5, 7))
                else:
                    phq9 = max(2, phq9 - rng.randint(0, 3))
                item9 = 1 if index % 13 == 5 and week == WEEKS - 1 else 0
                answers = [*_answers(phq9 - item9, 8), item9, None]
                for code, values in (
                    ("phq9", answers),
                    ("gad7", _answers(max(0, phq9 - 4), 7)),
                ):
                    submit_questionnaire_response(
                        request=None, patient=patient, instrument=code, answers=values,
                        source="portal", submission_key=uuid.uuid4().hex,
                        authored_at=start + timedelta(weeks=week, hours=index % 9),
                        entered_by=None if index % 2 else nurse,
                    )  # fmt: skip
                    stored += 1
        if portal is not None:
            assignment = QuestionnaireAssignment.objects.create(
                patient=portal, instrument="phq9", repeat=Repeat.WEEKLY,
                starts_on=timezone.localdate(), assigned_by=physician,
            )  # fmt: skip
            send_due_for_assignment(assignment, today=timezone.localdate())
            SafetyPlanVersion.objects.create(
                patient=portal, version=1, created_by=physician,
                warning_signs="Staying in bed past noon; stopping replies to friends.",
                coping_strategies="A walk by the lake; the breathing exercise from group.",
                distractions="The library on Queen Street; my cousin (555-0142).",
                people_to_ask="My sister (555-0177).",
                professionals="Suicide Crisis Helpline: call or text 9-8-8\\nEmergency: 9-1-1",
                safe_environment="Medications kept by my sister.",
                reasons_for_living="My dog, Juniper.",
            )  # fmt: skip
        today = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
        OnCallShift.objects.create(
            physician=physician, starts_at=today - timedelta(days=1),
            ends_at=today + timedelta(days=6), created_by=physician,
        )  # fmt: skip
    return stored
