"""`manage.py pk simulate`: predicted plasma ketamine from a published model.

    manage.py pk simulate --model kamp2020 --weight 70 --dose-mg-per-kg 0.5 \\
        --minutes 40 --at 20,40,60,80,120,240
    manage.py pk simulate --model domino --weight 80 --at 10,40 \\
        --schedule '[{"bolus_mg": 10, "at_min": 0},
                     {"infusion_mg_per_min": 0.8, "start_min": 0, "minutes": 40}]'

Prints JSON: {"model", "unit": "ng/mL", "times_min", "concentration"}. Bad input
(a negative weight, an unknown model, overlapping infusions) exits with code 2.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.pharmacokinetics.models import MODELS
from kapcare.pharmacokinetics.simulate import (
    Bolus,
    Dose,
    Infusion,
    ScheduleError,
    predict,
)


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def parse_schedule(text: str) -> list[Dose]:
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise _fail(f"--schedule is not JSON: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise _fail(
            "--schedule must be a non-empty JSON list of boluses and infusions."
        )
    schedule: list[Dose] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _fail(f"--schedule item {n} must be an object.")
        try:
            if "bolus_mg" in item:
                schedule.append(
                    Bolus(float(item.get("at_min", 0)), float(item["bolus_mg"]))
                )
            elif "infusion_mg_per_min" in item:
                schedule.append(
                    Infusion(
                        float(item.get("start_min", 0)), float(item["minutes"]),
                        float(item["infusion_mg_per_min"]),
                    )
                )  # fmt: skip
            else:
                raise _fail(
                    f"--schedule item {n}: give bolus_mg (and at_min) or "
                    "infusion_mg_per_min, start_min and minutes."
                )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CommandError):
                raise
            raise _fail(
                f"--schedule item {n}: {exc!s} is missing or not a number."
            ) from exc
    return schedule


class Command(BaseCommand):
    help = "Predicted plasma ketamine (ng/mL) from a published PK model; prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        simulate = sub.add_parser("simulate", help="Simulate a dose schedule.")
        simulate.add_argument("--model", required=True, help=", ".join(sorted(MODELS)))
        simulate.add_argument("--weight", type=float, required=True, help="kg")
        simulate.add_argument("--dose-mg-per-kg", type=float)
        simulate.add_argument(
            "--minutes", type=float, default=0.0,
            help="infusion length; 0 gives a bolus at time 0",
        )  # fmt: skip
        simulate.add_argument("--schedule", help="JSON list of boluses and infusions")
        simulate.add_argument(
            "--at", required=True, help="comma-separated times in minutes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["model"] not in MODELS:
            raise _fail(
                f"Unknown model {options['model']!r}; choose from {', '.join(sorted(MODELS))}."
            )
        weight = options["weight"]
        if weight <= 0:
            raise _fail("--weight must be a positive number of kg.")
        try:
            times = [float(t) for t in options["at"].split(",") if t.strip()]
        except ValueError as exc:
            raise _fail("--at must be comma-separated minutes, e.g. 20,40,60.") from exc
        if not times or any(t < 0 for t in times):
            raise _fail("--at needs times of 0 minutes or more.")
        if options["schedule"]:
            if options["dose_mg_per_kg"] is not None:
                raise _fail("Give --schedule or --dose-mg-per-kg, not both.")
            schedule = parse_schedule(options["schedule"])
        else:
            per_kg = options["dose_mg_per_kg"]
            if per_kg is None or per_kg <= 0:
                raise _fail("Give a positive --dose-mg-per-kg (or a --schedule).")
            minutes = options["minutes"]
            if minutes < 0:
                raise _fail("--minutes must be 0 (a bolus) or more.")
            dose = per_kg * weight
            schedule = (
                [Bolus(0.0, dose)]
                if minutes == 0
                else [Infusion(0.0, minutes, dose / minutes)]
            )
        try:
            prediction = predict(options["model"], weight, schedule, times)
        except ScheduleError as exc:
            raise _fail(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "model": prediction.model,
                    "unit": "ng/mL",
                    "times_min": prediction.times_min,
                    "concentration": [round(c, 3) for c in prediction.ng_ml],
                }
            )
        )
