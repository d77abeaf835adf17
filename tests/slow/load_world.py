"""The people and links a load test needs, made in the scratch database it runs on:

    DATABASE_URL=... python -m tests.slow.load_world --links 4000 > world.json

Demo staff and patients (seed_demo), one emailed PHQ-9 link per expected submission,
signed-in sessions (with TOTP passed) for a physician and a nurse, and a FHIR system
token. Prints JSON: session cookies, link paths, the token and some patient ids."""

import argparse
import json
import os
import sys

import django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=4000)
    parser.add_argument("--patients", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")
    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone

    from kapcare.lib.tokens import new_link_token
    from kapcare.measures.models import QuestionnaireLink
    from kapcare.patients.demo import DEMO_DOMAIN, seed_demo
    from kapcare.patients.models import Patient
    from tests.slow.fault_scripts import signed_in_cookie, system_client

    seed_demo(patients=args.patients)
    sessions = [
        signed_in_cookie(f"{slug}@{DEMO_DOMAIN}") for slug in ("physician", "nurse")
    ]
    patients = list(Patient.objects.order_by("mrn").values_list("pk", flat=True))
    links, paths = [], []
    expires = timezone.now() + timedelta(hours=72)
    for n in range(args.links):
        token, hashed = new_link_token()
        links.append(
            QuestionnaireLink(
                patient_id=patients[n % len(patients)], instrument="phq9",
                token_hash=hashed, sent_to="load@example.com", expires_at=expires,
            )
        )  # fmt: skip
        paths.append(reverse("measures:link_fill", args=[token]))
    QuestionnaireLink.objects.bulk_create(links, batch_size=1000)
    _, fhir_token = system_client("Load test")
    json.dump(
        {
            "sessions": sessions, "links": paths, "fhir_token": fhir_token,
            "patients": [str(p) for p in patients[:50]],
            "session_cookie": settings.SESSION_COOKIE_NAME,
        },
        sys.stdout,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
