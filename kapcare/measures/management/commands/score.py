import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.measures.scoring import ScoringError, parse_answers, score


class Command(BaseCommand):
    help = (
        "Score one questionnaire and print the result as JSON. Answers are the item "
        "values in item order; '-' marks an unanswered or not-asked item. "
        "Invalid input exits with code 2."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instrument", help="phq9, gad7, pcl5, cssrs_screener, …")
        parser.add_argument("answers", nargs="*", help="item values, or - if missing")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["instrument"]
        try:
            result = score(code, parse_answers(code, options["answers"]))
        except ScoringError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(json.dumps(result.as_dict()))
