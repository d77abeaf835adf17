"""Issue 5's board target: 5,000 consultation requests."""

import random
import uuid
from datetime import timedelta

from django.utils import timezone
from faker import Faker

from kapcare.intake.models import ConsultationRequest

REQUESTS = 5_000
FRONT_DESK = "frontdesk@demo.kapcare.test"


def seed_requests(count: int = REQUESTS, seed: int = 5) -> None:
    fake = Faker("en_CA")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    statuses = ConsultationRequest.Status.values
    now = timezone.now()
    rows = []
    for n in range(count):
        consult = ConsultationRequest(
            given_name=fake.first_name(), family_name=fake.last_name(),
            email=f"req{n}@example.com", phone=f"+1416555{n % 10000:04d}",
            preferred_contact=rng.choice(ConsultationRequest.Contact.values),
            consent_to_contact_at=now, consent_wording="I agree (bench)",
            submission_key=uuid.uuid4().hex, status=rng.choice(statuses),
            created_at=now - timedelta(hours=rng.randint(1, 24 * 120)),
        )  # fmt: skip
        consult.search_text = consult.build_search_text()
        rows.append(consult)
    ConsultationRequest.objects.bulk_create(rows, batch_size=1_000)
