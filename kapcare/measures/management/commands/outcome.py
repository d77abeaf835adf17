import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.measures.outcomes import (
    outcome,
    parse_pair,
    parse_total,
    talking_therapies,
)
from kapcare.measures.scoring import ScoringError


class Command(BaseCommand):
    help = (
        "Compare a baseline and a final total and print response, remission, "
        "reliable change and recovery as JSON. For 'talking_therapies' give "
        "PHQ9,GAD7 pairs. Invalid input exits with code 2."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "instrument", help="phq9, gad7, madrs, … or talking_therapies"
        )
        parser.add_argument("--baseline", required=True)
        parser.add_argument("--final", required=True)
        parser.add_argument(
            "--programme",
            choices=["ketamine", "esketamine"],
            default="ketamine",
            help="MADRS remission: ketamine trials (<= 10) or esketamine (<= 12)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["instrument"]
        try:
            if code == "talking_therapies":
                result: dict[str, Any] = talking_therapies(
                    baseline=parse_pair("baseline", options["baseline"]),
                    final=parse_pair("final", options["final"]),
                ).as_dict()
            else:
                result = outcome(
                    code,
                    baseline=parse_total(code, "baseline", options["baseline"]),
                    final=parse_total(code, "final", options["final"]),
                    programme=options["programme"],
                ).as_dict()
        except ScoringError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(json.dumps(result))
