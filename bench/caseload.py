"""Issue 4's caseload target: 2,000 active patients with 100,000 responses."""

import random
import uuid
from datetime import timedelta

from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.scoring import get_instrument, score
from kapcare.measures.summaries import refresh_measure_summary
from kapcare.patients.demo import DEMO_DOMAIN
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert

ACTIVE_PATIENTS = 2_000
RESPONSES = 100_000
PHYSICIAN = f"physician@{DEMO_DOMAIN}"


def seed_caseload(
    active: int = ACTIVE_PATIENTS, responses: int = RESPONSES, seed: int = 11
) -> None:
    """Make `active` patients current (a quarter the demo physician's), give them
    `responses` PHQ-9/GAD-7 results in bulk, their summaries and some open alerts."""
    rng = random.Random(seed)
    nurse = User.objects.get(email=f"nurse@{DEMO_DOMAIN}")
    physician = User.objects.get(email=PHYSICIAN)
    patients = list(Patient.objects.order_by("mrn")[2 : 2 + active])
    for index, patient in enumerate(patients):
        patient.status = (
            Patient.Status.MAINTENANCE if index % 3 == 0 else Patient.Status.ACTIVE
        )
        patient.responsible_physician = physician if index % 4 == 0 else None
    Patient.objects.bulk_update(
        patients, ["status", "responsible_physician"], batch_size=500
    )
    per_patient = responses // len(patients)
    start = timezone.now() - timedelta(days=per_patient * 7)
    rows = []
    for patient in patients:
        level = rng.randint(8, 24)
        for n in range(per_patient):
            code = "phq9" if n % 2 == 0 else "gad7"
            definition = get_instrument(code)
            level = max(0, min(24, level + rng.randint(-3, 2)))
            answers: list[int | None] = [
                min(3, max(0, level - 3 * i)) for i in range(len(definition.items))
            ]
            if code == "phq9":
                answers[8], answers[9] = 0, None
            result = score(code, answers)
            rows.append(
                QuestionnaireResponse(
                    patient=patient,
                    instrument=code,
                    instrument_version=definition.version,
                    answers=answers,
                    total=result.total,
                    band=result.band or "",
                    subscales=dict(result.subscales),
                    flags=list(result.flags),
                    risk=result.risk or "",
                    is_complete=result.complete,
                    source="portal",
                    authored_at=start + timedelta(days=7 * (n // 2)),
                    submission_key=uuid.uuid4().hex,
                    entered_by=None,
                )
            )
        if len(rows) >= 10_000:
            QuestionnaireResponse.objects.bulk_create(rows, batch_size=2_000)
            rows = []
    QuestionnaireResponse.objects.bulk_create(rows, batch_size=2_000)
    for patient in patients:
        for code in ("phq9", "gad7"):
            refresh_measure_summary(patient, code)
    for patient in patients[::20]:
        SafetyAlert.objects.create(
            patient=patient, level="high", level_rank=0, trigger="manual",
            reason="Bench alert", raised_by=nurse,
        )  # fmt: skip
