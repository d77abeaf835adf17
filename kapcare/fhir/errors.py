"""Every FHIR error is an OperationOutcome with the right HTTP status."""

import json
from typing import Any

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue

FHIR_JSON = "application/fhir+json; charset=utf-8"


class FhirError(Exception):
    """`code` is an OperationOutcome issue type (invalid, not-found, forbidden,
    login, not-supported, processing, ...)."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


def outcome(
    issues: list[tuple[str, str, str]],
) -> OperationOutcome:
    """[(severity, code, diagnostics), ...] -> a validated OperationOutcome."""
    return OperationOutcome(
        issue=[
            OperationOutcomeIssue(severity=severity, code=code, diagnostics=text)
            for severity, code, text in issues
        ]
    )


def fhir_json(data: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, separators=(",", ":")), status=status, content_type=FHIR_JSON
    )


def error_response(error: FhirError) -> HttpResponse:
    body = outcome([("error", error.code, error.diagnostics)])
    response = fhir_json(body.model_dump(mode="json", exclude_none=True), error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="kapcare-fhir"'
    return response
