import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.measures.demo import seed_demo_measures
from kapcare.patients.demo import seed_demo
from kapcare.scheduling.demo import seed_demo_schedule
from kapcare.treatment.demo import seed_demo_treatment
from kapcare.website.demo import seed_demo_site


class Command(BaseCommand):
    help = "Create a synthetic demo clinic: staff of every role and N patients (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=200)
        parser.add_argument(
            "--quiet", action="store_true", help="Do not print the logins."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Refusing to create demo accounts with KAPCARE_ENV=production."
            )
        if options["patients"] < 0:
            raise CommandError("--patients must be 0 or more.")
        started = time.perf_counter()
        logins, created = seed_demo(patients=options["patients"])
        responses = seed_demo_measures()
        sessions = seed_demo_treatment()
        appointments = seed_demo_schedule()
        posts = seed_demo_site()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Demo clinic ready: {created} new patients, {responses} new "
            f"questionnaire responses, {sessions} new dosing sessions and "
            f"{appointments} new appointments and {posts} new articles in "
            f"{elapsed:.1f} s."
        )
        if options["quiet"]:
            return
        self.stdout.write("\nDemo logins (synthetic data only; same password for all):")
        self.stdout.write(
            f"  {'Role':<14}{'Email':<34}{'Password':<20}TOTP secret (staff)"
        )
        for login in logins:
            self.stdout.write(
                f"  {login.role:<14}{login.email:<34}{login.password:<20}{login.totp_secret}"
            )
        self.stdout.write(
            "\nStaff sign in with a 6-digit code: add the TOTP secret to an authenticator app, "
            "or run `.venv/bin/python manage.py totp_code EMAIL`."
        )
