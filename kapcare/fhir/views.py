"""The FHIR R4 REST API under /fhir/ (JSON only): metadata, read and search.

Every answer is `application/fhir+json`; every error is an OperationOutcome with
its HTTP status. Every read or search is written to the audit log, one event
per patient shown, under the client's name."""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as FhirQuestionnaireResponse,
)
from pydantic import ValidationError as PydanticValidationError

from kapcare.accounts.access import otp_exempt
from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_events,
)
from kapcare.fhir import bulk, mapping
from kapcare.fhir.api import HANDLERS, Handler, Page, Query, parse_uuid
from kapcare.fhir.auth import Grant, authenticate
from kapcare.fhir.errors import FhirError, error_response, fhir_json, outcome
from kapcare.fhir.models import BulkExport
from kapcare.fhir.params import (
    CONTROL,
    MAX_COUNT,
    Cursor,
    ParameterError,
    parse_count,
)
from kapcare.lib.errors import database_trouble, unavailable
from kapcare.measures import fhir_shape
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.scoring import ScoringError
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.website.context_processors import clinic_for
from kapcare.website.models import get_clinic_profile

logger = logging.getLogger(__name__)
JSON_TYPES = (
    "application/fhir+json",
    "application/json",
    "json",
    "*/*",
    "application/*",
)


def _base() -> str:
    return f"{settings.SITE_URL}/fhir"


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No session, CSRF or two-step check (a bearer token instead); any error
    becomes an OperationOutcome."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _check_format(request)
            return view(request, *args, **kwargs)
        except FhirError as error:
            return error_response(error)
        except ParameterError as error:
            return error_response(FhirError(400, "invalid", str(error)))
        except Exception as exc:
            logger.exception("FHIR request failed: %s", request.path)
            if database_trouble(exc) is not None:
                return unavailable(
                    error_response(
                        FhirError(503, "transient", "The database is unavailable; "
                                  "nothing was saved. Try again shortly.")
                    )
                )  # fmt: skip
            return error_response(
                FhirError(500, "exception", "The server failed; the error is logged.")
            )

    wrapped.__name__ = view.__name__
    return csrf_exempt(otp_exempt(login_not_required(wrapped)))


def _check_format(request: HttpRequest) -> None:
    wanted = request.GET.get("_format") or request.headers.get("Accept", "")
    if wanted and not any(kind in wanted for kind in JSON_TYPES):
        raise FhirError(
            406,
            "not-supported",
            "This server answers in JSON only (application/fhir+json).",
        )


def _handler(resource_type: str, grant: Grant) -> Handler:
    handler = HANDLERS.get(resource_type)
    if handler is None:
        raise FhirError(
            404,
            "not-supported",
            f"{resource_type[:40]} is not a resource type this server serves.",
        )
    if not grant.may_read(resource_type):
        raise FhirError(
            403,
            "forbidden",
            f"The client's scopes do not allow reading {resource_type}.",
        )
    if (
        grant.patient_id is not None
        and not handler.in_patient_compartment
        and resource_type != "Questionnaire"
    ):
        raise FhirError(
            403, "forbidden", f"{resource_type} is outside this patient's compartment."
        )
    return handler


def _audit(
    request: HttpRequest, grant: Grant, page: Page, action: str, what: str
) -> None:
    context = replace(
        Context.from_request(request), actor_label=f"FHIR client: {grant.client.name}",
        actor_role="API client",
    )  # fmt: skip
    events = [
        PendingEvent(
            action=action,
            patient_id=patient_id,
            information=Information.CLINICAL,
            object_type="fhir",
            object_id=str(grant.client.pk),
            summary=f"FHIR {what} by client “{grant.client.name}”",
        )
        for patient_id in sorted(page.patients)
    ]
    if events:
        record_events(events, context=context)


@api_view
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET.")
    return fhir_json(capability_statement())


def capability_statement() -> dict[str, Any]:
    """Generated from the handlers that exist, so it says only what is real."""
    resources = [
        {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}]
            + ([{"code": "create"}] if name == "QuestionnaireResponse" else []),
            "searchParam": [
                {"name": param, "type": kind} for param, kind in handler.search_params.items()
            ] + [{"name": "_count", "type": "number"}] + (
                [{"name": "_sort", "type": "string", "documentation": f"{handler.sort_params[0]} or -{handler.sort_params[0]} (newest first, the default)"}]
                if handler.sort_params else []
            ),
        }
        for name, handler in HANDLERS.items()
    ]  # fmt: skip
    for resource in resources:
        if resource["type"] == "Patient":
            resource["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
    statement = CapabilityStatement.model_validate(
        {
            "status": "active",
            "date": timezone.now().isoformat(),
            "kind": "instance",
            "publisher": _publisher(),
            "description": "Kapcare FHIR R4 API. JSON only (application/fhir+json); "
            "read and search; keyset paging with next links; bearer tokens with "
            "SMART-style scopes (system/*.read, patient/*.read bound to one patient). "
            "Unknown search parameters are refused (400) unless the request sends "
            "Prefer: handling=lenient.",
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "implementation": {"description": "Kapcare", "url": _base()},
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": "Authorization: Bearer <token> of a client "
                        "registered by the clinic.",
                    },
                    "resource": resources,
                    "operation": [
                        {
                            "name": "export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/"
                            "OperationDefinition/export",
                        }
                    ],
                }
            ],
        }
    )
    return statement.model_dump(mode="json", exclude_none=True)


def _publisher() -> str:
    return get_clinic_profile().name


@api_view
def read(request: HttpRequest, resource_type: str, ident: str) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET to read.")
    grant = authenticate(request)
    handler = _handler(resource_type, grant)
    page = handler.read(grant, ident)
    _audit(request, grant, page, Action.VIEW, f"read {resource_type}/{ident[:40]}")
    return fhir_json(page.resources[0])


@api_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    if request.method == "POST" and resource_type == "QuestionnaireResponse":
        return create_questionnaire_response(request)
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET to search.")
    grant = authenticate(request)
    handler = _handler(resource_type, grant)
    query, ignored = _query(request, handler)
    page = handler.search(grant, query)
    _audit(request, grant, page, Action.SEARCH, f"search {resource_type}")
    return fhir_json(_bundle(request, resource_type, query, page, ignored))


def _query(request: HttpRequest, handler: Handler) -> tuple[Query, list[str]]:
    lenient = "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")
    for name, raw_values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in raw_values):
            raise FhirError(
                400, "invalid", "Search parameters may not hold a NUL character."
            )
    values: dict[str, list[str]] = {}
    unknown: list[str] = []
    for name in request.GET:
        base = name.split(":")[0]
        if base in CONTROL:
            continue
        if base not in handler.search_params or ":" in name:
            unknown.append(name)
            continue
        values[base] = list(request.GET.getlist(name))
    if unknown and not lenient:
        known = ", ".join(sorted(handler.search_params))
        raise FhirError(
            400, "not-supported",
            f"Unknown search parameter(s) for {handler.resource_type}: "
            f"{', '.join(sorted(unknown))[:200]}. Known: {known}, _count, _sort.",
        )  # fmt: skip
    sort = request.GET.get("_sort")
    descending = bool(handler.sort_params)
    if sort is not None:
        if handler.sort_params and sort.lstrip("-") in handler.sort_params:
            descending = sort.startswith("-")
        elif not lenient:
            allowed = ", ".join(f"{p}, -{p}" for p in handler.sort_params) or "none"
            raise FhirError(
                400,
                "not-supported",
                f"_sort: {sort[:40]} is not supported ({allowed}).",
            )
    cursor_text = request.GET.get("_cursor")
    cursor = Cursor.decode(cursor_text, handler.resource_type) if cursor_text else None
    zone = ZoneInfo(clinic_for(request).time_zone)
    query = Query(
        values, parse_count(request.GET.get("_count")), cursor, descending, zone
    )
    return query, unknown


def _bundle(
    request: HttpRequest,
    resource_type: str,
    query: Query,
    page: Page,
    ignored: list[str],
) -> dict[str, Any]:
    kept = [
        (k, v) for k, v in request.GET.lists() if k != "_cursor" and k not in ignored
    ]
    flat = [(k, value) for k, values in kept for value in values]
    self_link = f"{_base()}/{resource_type}" + (f"?{urlencode(flat)}" if flat else "")
    links = [{"relation": "self", "url": self_link}]
    if page.next_cursor is not None:
        cursor = replace(page.next_cursor, resource_type=resource_type)
        following = [*flat, ("_cursor", cursor.encode())]
        links.append(
            {
                "relation": "next",
                "url": f"{_base()}/{resource_type}?{urlencode(following)}",
            }
        )
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{_base()}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in page.resources
    ]
    if ignored:
        warning = outcome(
            [
                (
                    "warning",
                    "not-supported",
                    f"Ignored unknown search parameter(s): {', '.join(sorted(ignored))[:200]}",
                )
            ]
        )
        entries.append(
            {
                "resource": warning.model_dump(mode="json", exclude_none=True),
                "search": {"mode": "outcome"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": entries,
    }


COMPARTMENT = [
    "QuestionnaireResponse", "Observation", "Encounter", "MedicationAdministration",
    "Flag", "Appointment", "Consent",
]  # fmt: skip


@api_view
def everything(request: HttpRequest, ident: str) -> HttpResponse:
    """Patient/{id}/$everything: the patient and every record in their
    compartment that this server serves, in one Bundle."""
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET.")
    grant = authenticate(request)
    patient_page = _handler("Patient", grant).read(grant, ident)
    resources = list(patient_page.resources)
    zone = ZoneInfo(clinic_for(request).time_zone)
    for resource_type in COMPARTMENT:
        if not grant.may_read(resource_type):
            continue
        handler = HANDLERS[resource_type]
        query = Query({"patient": [ident]}, MAX_COUNT, None, True, zone)
        while True:
            page = handler.search(grant, query)
            resources += page.resources
            if page.next_cursor is None:
                break
            query = replace(query, cursor=page.next_cursor)
    _audit(request, grant, patient_page, Action.EXPORT, "Patient/$everything")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{_base()}/Patient/{ident}/$everything"}],
        "entry": [
            {
                "fullUrl": f"{_base()}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match" if i == 0 else "include"},
            }
            for i, r in enumerate(resources)
        ],
    }
    return fhir_json(bundle)


@api_view
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    raise FhirError(
        404,
        "not-supported",
        f"/fhir/{rest[:60]} is not an address this server answers.",
    )


MAX_BODY = 1024 * 1024


def create_questionnaire_response(request: HttpRequest) -> HttpResponse:
    """POST QuestionnaireResponse: validated as FHIR, read against the instrument,
    scored by the measures engine and stored; its safety alerts are raised in the
    same transaction, exactly as for the portal. A repeat of the same resource
    (same id or identifier, or the same content) stores nothing new (200)."""
    grant = authenticate(request)
    if not grant.may_write("QuestionnaireResponse"):
        raise FhirError(
            403, "forbidden", "The client may not send questionnaire responses."
        )
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise FhirError(413, "too-costly", "The resource is larger than 1 MB.")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FhirError(400, "structure", f"The body is not JSON: {exc}") from exc
    if (
        not isinstance(data, dict)
        or data.get("resourceType") != "QuestionnaireResponse"
    ):
        raise FhirError(400, "structure", "Send a QuestionnaireResponse resource.")
    try:
        FhirQuestionnaireResponse.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise FhirError(
            422,
            "invalid",
            f"Not a valid QuestionnaireResponse: {where}: {first.get('msg')}",
        ) from exc
    if data.get("status") != "completed":
        raise FhirError(
            422,
            "business-rule",
            "Only completed responses are accepted (status completed).",
        )
    patient = _subject_patient(data, grant)
    try:
        code = fhir_shape.instrument_for_questionnaire(
            str(data.get("questionnaire", ""))
        )
        definition = INSTRUMENTS[code]
        if grant.patient_id is not None and definition.is_clinician_rated:
            raise fhir_shape.ResponseError(
                f"{definition.name} is rated by a clinician, not sent by the patient."
            )
        answers = fhir_shape.answers_from_response(code, data.get("item") or [])
    except fhir_shape.ResponseError as exc:
        raise FhirError(422, "invalid", str(exc)) from exc
    authored = _authored(data)
    identity = _identity(data) or f"new|{uuid.uuid4()}"
    digest = hashlib.sha256(f"{grant.client.pk}|{patient.pk}|{identity}".encode())
    key = "fhir:" + digest.hexdigest()[:48]
    try:
        response, created = submit_questionnaire_response(
            request=None, patient=patient, instrument=code, answers=answers,
            source=QuestionnaireResponse.Source.API, submission_key=key,
            authored_at=authored,
        )  # fmt: skip
    except (ScoringError, ValueError) as exc:
        raise FhirError(422, "invalid", str(exc)) from exc
    page = Page(
        [mapping.questionnaire_response_resource(response)], None, {str(patient.pk)}
    )
    _audit(
        request,
        grant,
        page,
        Action.CREATE if created else Action.VIEW,
        "create QuestionnaireResponse",
    )
    result = fhir_json(page.resources[0], 201 if created else 200)
    result["Location"] = f"{_base()}/QuestionnaireResponse/{response.pk}"
    return result


def _subject_patient(data: dict[str, Any], grant: Grant) -> "Patient":
    reference = str((data.get("subject") or {}).get("reference", ""))
    pk = (
        parse_uuid(reference.removeprefix("Patient/"))
        if reference.startswith("Patient/")
        else None
    )
    if pk is None:
        raise FhirError(
            422, "required", "subject must reference the Patient (Patient/<id>)."
        )
    if grant.patient_id is not None and pk != grant.patient_id:
        raise FhirError(
            403, "forbidden", "The client may only send responses for its own patient."
        )
    patient = Patient.objects.filter(pk=pk).first()
    if patient is None:
        raise FhirError(422, "not-found", f"{reference[:60]} is not known here.")
    return patient


def _authored(data: dict[str, Any]) -> datetime:
    raw = data.get("authored")
    if not raw:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise FhirError(422, "invalid", "authored must carry a time zone offset.")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise FhirError(
            422, "invalid", "authored must be a date and time with its offset."
        ) from exc
    if moment > timezone.now() + timedelta(minutes=5):
        raise FhirError(422, "business-rule", "authored is in the future.")
    if moment.year < 1900:
        raise FhirError(422, "business-rule", "authored is before 1900.")
    return moment


def _identity(data: dict[str, Any]) -> str:
    """What makes a repeat the same response: only its business identifier (a
    resource id is ignored on create, and the same answers on another day are a
    new response). Without one, every POST is a new response."""
    identifier = data.get("identifier") or {}
    if isinstance(identifier, dict) and identifier.get("value"):
        return f"identifier|{identifier.get('system', '')}|{identifier['value']}"
    return ""


@api_view
def export_kick_off(
    request: HttpRequest, group: str = "", level: str = "system"
) -> HttpResponse:
    """$export (system, Patient or Group level): asynchronous, per the Bulk Data
    Access IG: 202 Accepted with the status URL in Content-Location."""
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET to start an export.")
    grant = authenticate(request)
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError(
            400, "required", "Send Prefer: respond-async to start an export."
        )
    known = {"_type", "_since", "_outputFormat"}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise FhirError(
            400,
            "not-supported",
            f"Unknown export parameter(s): {', '.join(unknown)[:200]}.",
        )
    export = bulk.kick_off(
        grant=grant, level=level, group=group, types=request.GET.getlist("_type"),
        since=request.GET.get("_since"), output_format=request.GET.get("_outputFormat"),
        request_url=_base() + request.get_full_path().removeprefix("/fhir"),
    )  # fmt: skip
    response = fhir_json(
        outcome([("information", "informational", "Export started.")]).model_dump(
            mode="json", exclude_none=True
        ),
        202,
    )
    response["Content-Location"] = f"{_base()}/bulk/{export.pk}"
    return response


def _own_export(request: HttpRequest, export_id: str) -> tuple[Grant, BulkExport]:
    grant = authenticate(request)
    pk = parse_uuid(export_id)
    export = (
        BulkExport.objects.filter(pk=pk, client=grant.client).first() if pk else None
    )
    if export is None:
        raise FhirError(404, "not-found", "No such export for this client.")
    return grant, export


@api_view
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    _, export = _own_export(request, export_id)
    if request.method == "DELETE":
        bulk.cancel(export)
        return fhir_json(
            outcome([("information", "informational", "Export cancelled.")]).model_dump(
                mode="json", exclude_none=True
            ),
            202,
        )
    if request.method != "GET":
        raise FhirError(405, "not-supported", "Use GET to poll or DELETE to cancel.")
    if export.status in (BulkExport.Status.QUEUED, BulkExport.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = export.progress or "Queued"
        response["Retry-After"] = "5"
        return response
    if export.status == BulkExport.Status.CANCELLED:
        raise FhirError(404, "not-found", "This export was cancelled.")
    if export.status == BulkExport.Status.FAILED:
        raise FhirError(500, "exception", f"The export failed: {export.error}")
    manifest = {
        "transactionTime": export.transaction_time.isoformat(),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": f"{_base()}/bulk/{export.pk}/{f.pk}.ndjson",
                "count": f.count,
            }
            for f in export.files.all()
        ],
        "error": [],
    }
    return HttpResponse(json.dumps(manifest), content_type="application/json")


@api_view
def export_file(request: HttpRequest, export_id: str, file_id: str) -> HttpResponse:
    grant, export = _own_export(request, export_id)
    found = (
        export.files.filter(pk=int(file_id)).first()
        if file_id.isascii() and file_id.isdigit() and len(file_id) < 12
        else None
    )
    if found is None or export.status != BulkExport.Status.DONE:
        raise FhirError(404, "not-found", "No such file in this export.")
    record_events(
        [
            PendingEvent(
                action=Action.EXPORT,
                patient_id=None,
                information=Information.CLINICAL,
                object_type="fhir_export",
                object_id=str(export.pk),
                summary=f"Downloaded {found.resource_type} part {found.part} of a bulk export",
            )
        ],
        context=replace(
            Context.from_request(request),
            actor_label=f"FHIR client: {grant.client.name}",
            actor_role="API client",
        ),
    )
    response = FileResponse(
        bulk.storage().open(found.name, "rb"), content_type="application/fhir+ndjson"
    )
    response["Cache-Control"] = "private, no-store"
    return response  # type: ignore[return-value]
