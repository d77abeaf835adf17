"""Read and search for each resource type the API serves.

Each handler reads rows for one page with a fixed number of queries (keyset
paging on the search's sort key and the id, so a page is stable under inserts),
keeps a patient-scoped client inside its patient's compartment, and returns
validated FHIR JSON with the patients it showed (for the audit log)."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from fhir.resources.R4B.observation import Observation

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.fhir import mapping
from kapcare.fhir.auth import Grant
from kapcare.fhir.errors import FhirError
from kapcare.fhir.params import Cursor, DateRange, ParameterError, Token
from kapcare.intake.models import ConsentSignature
from kapcare.measures import fhir_shape
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import QuestionnaireResponse
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.scheduling.models import Appointment
from kapcare.treatment.models import DosingSession, IntegrationSession, VitalSign

CLINICAL_ROLES = [Role.PHYSICIAN, Role.NURSE, Role.THERAPIST]


@dataclass
class Query:
    """A parsed search: parameter values by name (repeats allowed), page size and
    where the page starts."""

    values: dict[str, list[str]]
    count: int
    cursor: Cursor | None
    descending: bool
    zone: ZoneInfo

    def one(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[-1] if found else None

    def dates(self, name: str) -> list[DateRange]:
        return [
            DateRange.parse(name, raw, self.zone) for raw in self.values.get(name, [])
        ]

    def tokens(self, name: str) -> list[Token]:
        return [Token.parse(name, raw) for raw in self.values.get(name, [])]


@dataclass
class Page:
    resources: list[dict[str, Any]]
    next_cursor: Cursor | None
    patients: set[str] = field(default_factory=set)


def _uuid(ident: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ident)
    except ValueError:
        return None


def not_found(kind: str, ident: str) -> FhirError:
    return FhirError(404, "not-found", f"{kind}/{ident[:64]} is not known here.")


def _date_filter(field_name: str, ranges: list[DateRange]) -> Q:
    """A date search parameter as a database condition (all ranges must hold)."""
    condition = Q()
    for r in ranges:
        condition &= {
            "eq": Q(**{f"{field_name}__gte": r.start, f"{field_name}__lt": r.end}),
            "gt": Q(**{f"{field_name}__gte": r.end}),
            "ge": Q(**{f"{field_name}__gte": r.start}),
            "lt": Q(**{f"{field_name}__lt": r.start}),
            "le": Q(**{f"{field_name}__lt": r.end}),
        }[r.prefix]
    return condition


def _keyset(
    rows: QuerySet[Any], sort_field: str, query: Query
) -> tuple[list[Any], bool]:
    """One page of rows ordered by (sort_field, pk), after the cursor."""
    sign = "-" if query.descending else ""
    rows = rows.order_by(f"{sign}{sort_field}", f"{sign}pk")
    if query.cursor is not None:
        moment = _cursor_value(query.cursor.moment)
        ident = _uuid(query.cursor.ident)
        if ident is None:
            raise ParameterError("_cursor: this paging link is damaged.")
        op = "lt" if query.descending else "gt"
        rows = rows.filter(
            Q(**{f"{sort_field}__{op}": moment})
            | Q(**{sort_field: moment, f"pk__{op}": ident})
        )
    found = list(rows[: query.count + 1])
    return found[: query.count], len(found) > query.count


def _cursor_value(text: str) -> Any:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def _cursor_for(value: Any, pk: object) -> Cursor:
    moment = value.isoformat() if isinstance(value, datetime) else str(value)
    return Cursor(moment, str(pk))


class Handler:
    resource_type = ""
    search_params: dict[str, str] = {}
    in_patient_compartment = True
    sort_params: tuple[str, ...] = ()

    def read(self, grant: Grant, ident: str) -> Page:
        raise NotImplementedError

    def search(self, grant: Grant, query: Query) -> Page:
        raise NotImplementedError

    def patient_filter(self, grant: Grant, query: Query, field_name: str) -> Q:
        """The `patient` (or `subject`) parameter, and the client's compartment."""
        condition = Q()
        for name in ("patient", "subject"):
            for raw in query.values.get(name, []):
                ident = _uuid(raw.removeprefix("Patient/"))
                if ident is None:
                    raise ParameterError(f"{name}: give a Patient id.")
                condition &= Q(**{field_name: ident})
        if grant.patient_id is not None:
            condition &= Q(**{field_name: grant.patient_id})
        return condition


class PatientHandler(Handler):
    resource_type = "Patient"
    search_params = {
        "_id": "token", "identifier": "token", "name": "string",
        "family": "string", "given": "string", "birthdate": "date",
        "_lastUpdated": "date",
    }  # fmt: skip

    def _rows(self, grant: Grant) -> QuerySet[Patient]:
        rows = Patient.objects.all()
        if grant.patient_id is not None:
            rows = rows.filter(pk=grant.patient_id)
        return rows

    def read(self, grant: Grant, ident: str) -> Page:
        pk = _uuid(ident)
        patient = self._rows(grant).filter(pk=pk).first() if pk else None
        if patient is None:
            raise not_found("Patient", ident)
        resource = mapping.patient_resource(patient).model_dump(
            mode="json", exclude_none=True
        )
        return Page([resource], None, {str(patient.pk)})

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows(grant)
        for raw in query.values.get("_id", []):
            rows = rows.filter(pk=_uuid(raw) or uuid.UUID(int=0))
        for token in query.tokens("identifier"):
            if token.code is None:
                raise ParameterError("identifier: give the identifier's value.")
            if token.system in (None, mapping.mrn_system()):
                by_system = Q(mrn=token.code.upper())
            else:
                by_system = Q(pk__in=[])
            if token.system in (None, mapping.ONTARIO_HCN):
                by_system |= Q(
                    health_number=token.code.replace("-", "").replace(" ", "")
                )
            rows = rows.filter(by_system)
        for name in ("name", "family", "given"):
            for raw in query.values.get(name, []):
                field_name = {
                    "name": "search_text", "family": "legal_family_name",
                    "given": "legal_given_name",
                }[name]  # fmt: skip
                lookup = "contains" if name == "name" else "istartswith"
                rows = rows.filter(
                    **{
                        f"{field_name}__{lookup}": raw.lower()
                        if name == "name"
                        else raw
                    }
                )
        for r in query.dates("birthdate"):
            rows = rows.filter(_birthdate(r, query.zone))
        rows = rows.filter(_date_filter("updated_at", query.dates("_lastUpdated")))
        found, more = _keyset(rows, "mrn", query)
        return Page(
            [
                mapping.patient_resource(p).model_dump(mode="json", exclude_none=True)
                for p in found
            ],
            _cursor_for(found[-1].mrn, found[-1].pk) if more else None,
            {str(p.pk) for p in found},
        )


def _birthdate(r: DateRange, zone: ZoneInfo) -> Q:
    """A birth date is a calendar date: compare dates, not instants."""
    first = r.start.astimezone(zone).date()
    after = r.end.astimezone(zone).date()
    return {
        "eq": Q(born_on__gte=first, born_on__lt=after),
        "gt": Q(born_on__gte=after),
        "ge": Q(born_on__gte=first),
        "lt": Q(born_on__lt=first),
        "le": Q(born_on__lt=after),
    }[r.prefix]


class PractitionerHandler(Handler):
    resource_type = "Practitioner"
    search_params = {"_id": "token", "name": "string"}
    in_patient_compartment = False

    def _rows(self) -> QuerySet[User]:
        return User.objects.filter(
            kind=User.Kind.STAFF, groups__name__in=CLINICAL_ROLES
        ).distinct()

    def read(self, grant: Grant, ident: str) -> Page:
        pk = _uuid(ident)
        user = self._rows().filter(pk=pk).first() if pk else None
        if user is None:
            raise not_found("Practitioner", ident)
        return Page(
            [
                mapping.practitioner_resource(user).model_dump(
                    mode="json", exclude_none=True
                )
            ],
            None,
        )

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows()
        for raw in query.values.get("_id", []):
            rows = rows.filter(pk=_uuid(raw) or uuid.UUID(int=0))
        for raw in query.values.get("name", []):
            rows = rows.filter(full_name__icontains=raw)
        found, more = _keyset(rows, "full_name", query)
        return Page(
            [
                mapping.practitioner_resource(u).model_dump(
                    mode="json", exclude_none=True
                )
                for u in found
            ],
            _cursor_for(found[-1].full_name, found[-1].pk) if more else None,
        )


def questionnaire_id(code: str) -> str:
    """A FHIR id has no underscore: cssrs_screener -> cssrs-screener."""
    return code.replace("_", "-")


class QuestionnaireHandler(Handler):
    """The instrument library: not patient data, open to every client."""

    resource_type = "Questionnaire"
    search_params = {"_id": "token", "url": "uri", "code": "token", "name": "string"}
    in_patient_compartment = False

    def _resource(self, code: str) -> dict[str, Any]:
        resource = fhir_shape.questionnaire(code)
        resource.id = questionnaire_id(code)
        return resource.model_dump(mode="json", exclude_none=True)

    def read(self, grant: Grant, ident: str) -> Page:
        code = ident.replace("-", "_")
        if code not in INSTRUMENTS:
            raise not_found("Questionnaire", ident)
        return Page([self._resource(code)], None)

    def search(self, grant: Grant, query: Query) -> Page:
        codes = sorted(INSTRUMENTS)
        for raw in query.values.get("_id", []):
            codes = [c for c in codes if questionnaire_id(c) == raw]
        for raw in query.values.get("url", []):
            codes = [
                c for c in codes if fhir_shape.questionnaire_url(c) == raw.split("|")[0]
            ]
        for token in query.tokens("code"):
            codes = [
                c for c in codes
                if token.matches(mapping.LOINC, INSTRUMENTS[c].loinc or None)
            ]  # fmt: skip
        for raw in query.values.get("name", []):
            codes = [c for c in codes if raw.lower() in INSTRUMENTS[c].name.lower()]
        return Page([self._resource(c) for c in codes], None)


class QuestionnaireResponseHandler(Handler):
    resource_type = "QuestionnaireResponse"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "questionnaire": "reference", "authored": "date", "_lastUpdated": "date",
    }  # fmt: skip
    sort_params = ("authored",)

    def _rows(self, grant: Grant) -> QuerySet[QuestionnaireResponse]:
        rows = QuestionnaireResponse.objects.exclude(
            status=QuestionnaireResponse.Status.ENTERED_IN_ERROR
        )
        if grant.patient_id is not None:
            rows = rows.filter(patient_id=grant.patient_id)
        return rows

    def read(self, grant: Grant, ident: str) -> Page:
        pk = _uuid(ident)
        response = self._rows(grant).filter(pk=pk).first() if pk else None
        if response is None:
            raise not_found("QuestionnaireResponse", ident)
        return Page(
            [mapping.questionnaire_response_resource(response)],
            None,
            {str(response.patient_id)},
        )

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows(grant).filter(self.patient_filter(grant, query, "patient_id"))
        for raw in query.values.get("_id", []):
            rows = rows.filter(pk=_uuid(raw) or uuid.UUID(int=0))
        for raw in query.values.get("questionnaire", []):
            wanted = raw.split("|")[0].removeprefix("Questionnaire/")
            codes = [
                c for c in INSTRUMENTS
                if wanted in (questionnaire_id(c), fhir_shape.questionnaire_url(c))
            ]  # fmt: skip
            rows = rows.filter(instrument__in=codes)
        rows = rows.filter(_date_filter("authored_at", query.dates("authored")))
        rows = rows.filter(_date_filter("created_at", query.dates("_lastUpdated")))
        found, more = _keyset(rows, "authored_at", query)
        return Page(
            [mapping.questionnaire_response_resource(r) for r in found],
            _cursor_for(found[-1].authored_at, found[-1].pk) if more else None,
            {str(r.patient_id) for r in found},
        )


@dataclass(frozen=True)
class _Entry:
    moment: datetime
    ident: str
    patient: str
    observation: Observation


class ObservationHandler(Handler):
    """Questionnaire scores (category survey), vital signs and body weight
    (category vital-signs), merged in date order from their three tables."""

    resource_type = "Observation"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "code": "token", "category": "token", "date": "date",
    }  # fmt: skip
    sort_params = ("date",)

    def read(self, grant: Grant, ident: str) -> Page:
        kind, _, rest = ident.partition("-")
        key = rest.split("-")[0]
        entries: list[_Entry] = []
        pk = _uuid(key)
        if kind == "s" and pk is not None:
            rows = QuestionnaireResponse.objects.filter(pk=pk)
            entries = self._scores(rows, grant)
        elif kind == "w" and pk is not None:
            entries = self._weights(DosingSession.objects.filter(pk=pk), grant)
        elif kind == "v" and key.isdigit() and len(key) < 18:
            signs = VitalSign.objects.filter(pk=int(key)).select_related("session")
            entries = self._vitals(signs, grant, None)
        match = [e for e in entries if e.ident == ident]
        if not match:
            raise not_found("Observation", ident)
        entry = match[0]
        return Page([_dump(entry.observation)], None, {entry.patient})

    def search(self, grant: Grant, query: Query) -> Page:
        categories = {
            t.code
            for t in query.tokens("category")
            if t.matches(mapping.CATEGORY, t.code)
        }
        codes = query.tokens("code")
        dates = query.dates("date")
        ids = set(query.values.get("_id", []))
        sources: list[Callable[[], list[_Entry]]] = []
        survey = not categories or "survey" in categories
        vitals = not categories or "vital-signs" in categories
        limit = query.count + 1

        def page(rows: QuerySet[Any], field_name: str) -> QuerySet[Any]:
            rows = rows.filter(
                self.patient_filter(
                    grant,
                    query,
                    "patient_id" if field_name != "taken_at" else "session__patient_id",
                )
            )
            rows = rows.filter(_date_filter(field_name, dates))
            if query.cursor is not None:
                moment = _cursor_value(query.cursor.moment)
                rows = rows.filter(
                    **{f"{field_name}__{'lte' if query.descending else 'gte'}": moment}
                )
            sign = "-" if query.descending else ""
            return rows.order_by(f"{sign}{field_name}", f"{sign}pk")[:limit]

        if survey:
            instruments = [
                c for c, d in INSTRUMENTS.items()
                if not codes or any(t.matches(mapping.LOINC, d.total_loinc or None) for t in codes)
            ]  # fmt: skip
            rows = QuestionnaireResponse.objects.exclude(
                status=QuestionnaireResponse.Status.ENTERED_IN_ERROR
            ).filter(instrument__in=instruments)
            sources.append(
                lambda: self._scores(
                    page(rows, "authored_at"), grant, only_totals=bool(codes)
                )
            )
        if vitals:
            wanted = {
                key for key, code in _VITAL_CODES.items()
                if not codes or any(t.matches(mapping.LOINC, code) for t in codes)
            }  # fmt: skip
            if wanted - {"weight"}:
                signs = VitalSign.objects.select_related("session")
                sources.append(
                    lambda: self._vitals(page(signs, "taken_at"), grant, wanted)
                )
            if "weight" in wanted:
                weighed = DosingSession.objects.filter(weight_kg__isnull=False)
                sources.append(lambda: self._weights(page(weighed, "opened_at"), grant))
        entries = [e for source in sources for e in source()]
        if ids:
            entries = [e for e in entries if e.ident in ids]
        if query.cursor is not None:
            after = (_cursor_value(query.cursor.moment), query.cursor.ident)
            entries = [
                e for e in entries
                if ((e.moment, e.ident) < after if query.descending else (e.moment, e.ident) > after)
            ]  # fmt: skip
        entries.sort(key=lambda e: (e.moment, e.ident), reverse=query.descending)
        shown = entries[: query.count]
        more = len(entries) > query.count
        return Page(
            [_dump(e.observation) for e in shown],
            Cursor(shown[-1].moment.isoformat(), shown[-1].ident)
            if more and shown
            else None,
            {e.patient for e in shown},
        )

    def _scores(
        self,
        rows: Iterable[QuestionnaireResponse],
        grant: Grant,
        only_totals: bool = False,
    ) -> list[_Entry]:
        entries = []
        for response in rows:
            if grant.patient_id is not None and response.patient_id != grant.patient_id:
                continue
            observations = mapping.score_observations(response)
            if only_totals:
                observations = observations[:1] if response.total is not None else []
            entries += [
                _Entry(response.authored_at, str(o.id), str(response.patient_id), o)
                for o in observations
            ]
        return entries

    def _vitals(
        self, rows: Iterable[VitalSign], grant: Grant, wanted: set[str] | None
    ) -> list[_Entry]:
        entries = []
        for vital in rows:
            patient_id = vital.session.patient_id
            if grant.patient_id is not None and patient_id != grant.patient_id:
                continue
            for o in mapping.vital_observations(vital, patient_id):
                key = str(o.id).rsplit("-", 1)[1]
                if wanted is None or key in wanted:
                    entries.append(
                        _Entry(vital.taken_at, str(o.id), str(patient_id), o)
                    )
        return entries

    def _weights(self, rows: Iterable[DosingSession], grant: Grant) -> list[_Entry]:
        entries = []
        for session in rows:
            if session.weight_kg is None:
                continue
            if grant.patient_id is not None and session.patient_id != grant.patient_id:
                continue
            o = mapping.weight_observation(session)
            entries.append(
                _Entry(session.opened_at, str(o.id), str(session.patient_id), o)
            )
        return entries


_VITAL_CODES = {
    "bp": mapping.BP[1], **{k: v.loinc for k, v in mapping.VITALS.items()},
    "weight": mapping.WEIGHT[0],
}  # fmt: skip


def _dump(resource: Observation) -> dict[str, Any]:
    return resource.model_dump(mode="json", exclude_none=True)


HANDLERS: dict[str, Handler] = {
    handler.resource_type: handler
    for handler in (
        PatientHandler(), PractitionerHandler(), QuestionnaireHandler(),
        QuestionnaireResponseHandler(), ObservationHandler(),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One table behind a resource type: its rows, the field for `patient` and
    for the date the search sorts and filters on, and how a row becomes JSON."""

    rows: Callable[[], QuerySet[Any]]
    patient_field: str
    date_field: str
    build: Callable[[Any], dict[str, Any]]


class RowHandler(Handler):
    """A resource type built from one or more tables, merged in date order with
    keyset paging on (date, id). Ids are the rows' UUIDs, unique across tables."""

    sources: tuple[Source, ...] = ()
    date_param = "date"
    filters: dict[str, Callable[[str], Q]] = {}

    def read(self, grant: Grant, ident: str) -> Page:
        pk = _uuid(ident)
        for source in self.sources:
            rows = source.rows().filter(pk=pk) if pk else source.rows().none()
            if grant.patient_id is not None:
                rows = rows.filter(**{source.patient_field: grant.patient_id})
            row = rows.first()
            if row is not None:
                return Page(
                    [source.build(row)], None, {str(getattr(row, source.patient_field))}
                )
        raise not_found(self.resource_type, ident)

    def search(self, grant: Grant, query: Query) -> Page:
        dates = query.dates(self.date_param)
        ids = [_uuid(raw) or uuid.UUID(int=0) for raw in query.values.get("_id", [])]
        entries: list[tuple[Any, str, str, Source, Any]] = []
        more = False
        for source in self.sources:
            rows = source.rows().filter(
                self.patient_filter(grant, query, source.patient_field)
            )
            rows = rows.filter(_date_filter(source.date_field, dates))
            for name, make in self.filters.items():
                for raw in query.values.get(name, []):
                    rows = rows.filter(make(raw))
            if ids:
                rows = rows.filter(pk__in=ids)
            found, source_more = _keyset(rows, source.date_field, query)
            more = more or source_more
            entries += [
                (
                    getattr(row, source.date_field),
                    str(row.pk),
                    str(getattr(row, source.patient_field)),
                    source,
                    row,
                )
                for row in found
            ]
        entries.sort(key=lambda e: (_sortable(e[0]), e[1]), reverse=query.descending)
        shown = entries[: query.count]
        more = more or len(entries) > query.count
        last = shown[-1] if shown else None
        return Page(
            [source.build(row) for _, _, _, source, row in shown],
            _cursor_for(last[0], last[1]) if more and last else None,
            {patient for _, _, patient, _, _ in shown},
        )


def _sortable(value: Any) -> Any:
    """Dates (integration sessions) and datetimes sort together."""
    from datetime import date as day
    from datetime import time as clock

    if isinstance(value, datetime):
        return value
    if isinstance(value, day):
        return datetime.combine(value, clock(0), tzinfo=ZoneInfo("UTC"))
    return value


class EncounterHandler(RowHandler):
    """Dosing sessions (by opening time) and integration sessions (by when their
    note was written; their day is in period.start)."""

    resource_type = "Encounter"
    search_params = {
        "_id": "token",
        "patient": "reference",
        "subject": "reference",
        "date": "date",
    }
    sort_params = ("date",)
    sources = (
        Source(
            lambda: DosingSession.objects.all(), "patient_id", "opened_at",
            mapping.dosing_encounter,
        ),
        Source(
            lambda: IntegrationSession.objects.all(), "patient_id", "created_at",
            mapping.integration_encounter,
        ),
    )  # fmt: skip


class MedicationAdministrationHandler(RowHandler):
    resource_type = "MedicationAdministration"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "effective-time": "date",
    }  # fmt: skip
    sort_params = ("effective-time",)
    date_param = "effective-time"
    sources = (
        Source(
            lambda: DosingSession.objects.filter(dose_started_at__isnull=False)
            .select_related("course__protocol"),
            "patient_id", "dose_started_at", mapping.medication_administration,
        ),
    )  # fmt: skip


class FlagHandler(RowHandler):
    """Safety alerts on a chart: open and acknowledged ones are active."""

    resource_type = "Flag"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "date": "date", "status": "token",
    }  # fmt: skip
    sort_params = ("date",)
    filters = {
        "status": lambda raw: {
            "active": ~Q(state=SafetyAlert.State.RESOLVED),
            "inactive": Q(state=SafetyAlert.State.RESOLVED),
        }.get(raw, Q(pk__in=[])),
    }
    sources = (
        Source(
            lambda: SafetyAlert.objects.filter(patient__isnull=False), "patient_id",
            "raised_at", mapping.flag,
        ),
    )  # fmt: skip


class AppointmentHandler(RowHandler):
    resource_type = "Appointment"
    search_params = {
        "_id": "token", "patient": "reference", "date": "date", "status": "token",
    }  # fmt: skip
    sort_params = ("date",)
    filters = {
        "status": lambda raw: Q(
            status__in=[k for k, v in mapping.APPOINTMENT_STATUS.items() if v == raw]
        ),
    }
    sources = (
        Source(
            lambda: Appointment.objects.select_related("appointment_type", "resource"),
            "patient_id", "starts_at", mapping.appointment,
        ),
    )  # fmt: skip


class ConsentHandler(RowHandler):
    resource_type = "Consent"
    search_params = {"_id": "token", "patient": "reference", "date": "date"}
    sort_params = ("date",)
    sources = (
        Source(
            lambda: ConsentSignature.objects.select_related("document"), "patient_id",
            "signed_at", mapping.consent,
        ),
    )  # fmt: skip


for _handler in (
    EncounterHandler(), MedicationAdministrationHandler(), FlagHandler(),
    AppointmentHandler(), ConsentHandler(),
):  # fmt: skip
    HANDLERS[_handler.resource_type] = _handler
