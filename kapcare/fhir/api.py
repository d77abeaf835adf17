"""Read and search for each resource type the API serves.

Each handler reads one page with a fixed number of queries and keeps a
patient-scoped client inside its patient's compartment. Paging is by keyset: a
resource type built from several tables is ordered by (date, table, row, entry)
and each table is read from the cursor on in SQL, so a page neither repeats nor
skips entries, whatever rows share a timestamp or arrive meanwhile. Every filter
that can drop a row runs in SQL before the page limit, so pages never run dry.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from fhir.resources.R4B.observation import Observation

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.fhir import mapping
from kapcare.fhir.auth import Grant
from kapcare.fhir.errors import FhirError
from kapcare.fhir.params import Cursor, DateRange, ParameterError, Token, split_values
from kapcare.intake.models import ConsentSignature
from kapcare.measures import fhir_shape
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import QuestionnaireResponse
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.scheduling.models import Appointment
from kapcare.treatment.models import DosingSession, IntegrationSession, VitalSign

CLINICAL_ROLES = [Role.PHYSICIAN, Role.NURSE, Role.THERAPIST]
UTC_ZONE = ZoneInfo("UTC")


@dataclass
class Query:
    """A parsed search: values by parameter (a repeated parameter is a list: all
    must hold), page size, where the page starts, direction, clinic time zone."""

    values: dict[str, list[str]]
    count: int
    cursor: Cursor | None
    descending: bool
    zone: ZoneInfo

    def dates(self, name: str) -> list[DateRange]:
        return [
            DateRange.parse(name, raw, self.zone) for raw in self.values.get(name, [])
        ]

    def tokens(self, name: str) -> list[list[Token]]:
        """Each repeat of the parameter (AND) as its comma-separated tokens (OR)."""
        return [
            [Token.parse(name, part) for part in split_values(raw)]
            for raw in self.values.get(name, [])
        ]


@dataclass
class Page:
    resources: list[dict[str, Any]]
    next_cursor: Cursor | None
    patients: set[str] = field(default_factory=set)


def parse_uuid(ident: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ident)
    except ValueError:
        return None


def not_found(kind: str, ident: str) -> FhirError:
    return FhirError(404, "not-found", f"{kind}/{ident[:64]} is not known here.")


def _date_filter(field_name: str, ranges: list[DateRange]) -> Q:
    """Date parameters as a database condition (all must hold)."""
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


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ParameterError("_cursor: this paging link is damaged.") from exc
    if moment.tzinfo is None:
        raise ParameterError("_cursor: this paging link is damaged.")
    return moment


def _as_moment(value: datetime | date) -> datetime:
    """Dates (an integration session's day) sort with datetimes, at midnight UTC."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=UTC_ZONE)


def _single_keyset(
    rows: QuerySet[Any], sort_field: str, query: Query, key: Callable[[Any], str]
) -> tuple[list[Any], Cursor | None]:
    """One page of one table ordered by (sort_field, pk), after the cursor. The
    cursor's key is a string column (MRN, name) or a datetime."""
    sign = "-" if query.descending else ""
    rows = rows.order_by(f"{sign}{sort_field}", f"{sign}pk")
    if query.cursor is not None:
        op = "lt" if query.descending else "gt"
        value: Any = query.cursor.moment
        if sort_field.endswith("_at"):
            value = _moment(value)
        pk = parse_uuid(query.cursor.ident)
        if pk is None:
            raise ParameterError("_cursor: this paging link is damaged.")
        rows = rows.filter(
            Q(**{f"{sort_field}__{op}": value})
            | Q(**{sort_field: value, f"pk__{op}": pk})
        )
    found = list(rows[: query.count + 1])
    page = found[: query.count]
    cursor = None
    if len(found) > query.count:
        cursor = Cursor("", key(page[-1]), str(page[-1].pk))
    return page, cursor


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
                wanted = [
                    parse_uuid(part.removeprefix("Patient/"))
                    for part in split_values(raw)
                ]
                if any(w is None for w in wanted):
                    raise ParameterError(f"{name}: give a Patient id.")
                condition &= Q(**{f"{field_name}__in": wanted})
        if grant.patient_id is not None:
            condition &= Q(**{field_name: grant.patient_id})
        if query.values.get("_group") == ["active"]:
            condition &= Q(**{f"{field_name}__in": active_patients()})
        return condition


def active_patients() -> QuerySet[Any]:
    """Group/active: patients in active treatment or maintenance (a subquery)."""
    return Patient.objects.filter(
        status__in=[Patient.Status.ACTIVE, Patient.Status.MAINTENANCE]
    ).values("pk")


def _dump(resource: Any) -> dict[str, Any]:
    return dict(resource.model_dump(mode="json", exclude_none=True))


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
        pk = parse_uuid(ident)
        patient = self._rows(grant).filter(pk=pk).first() if pk else None
        if patient is None:
            raise not_found("Patient", ident)
        return Page([_dump(mapping.patient_resource(patient))], None, {str(patient.pk)})

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows(grant)
        if query.values.get("_group") == ["active"]:
            rows = rows.filter(pk__in=active_patients())
        for raw in query.values.get("_id", []):
            rows = rows.filter(
                pk__in=[parse_uuid(p) or uuid.UUID(int=0) for p in split_values(raw)]
            )
        for alternatives in query.tokens("identifier"):
            either = Q(pk__in=[])
            for token in alternatives:
                if token.code is None:
                    raise ParameterError("identifier: give the identifier's value.")
                if token.matches(mapping.mrn_system(), token.code):
                    either |= Q(mrn=token.code.upper())
                if token.matches(mapping.ONTARIO_HCN, token.code):
                    either |= Q(
                        health_number=token.code.replace("-", "").replace(" ", "")
                    )
            rows = rows.filter(either)
        for name, field_name in (
            ("name", "search_text"), ("family", "legal_family_name"),
            ("given", "legal_given_name"),
        ):  # fmt: skip
            for raw in query.values.get(name, []):
                if name == "name":
                    rows = rows.filter(search_text__contains=raw.lower())
                else:
                    rows = rows.filter(**{f"{field_name}__istartswith": raw})
        for r in query.dates("birthdate"):
            rows = rows.filter(_birthdate(r, query.zone))
        rows = rows.filter(_date_filter("updated_at", query.dates("_lastUpdated")))
        rows = rows.filter(changed_filter(query, ["updated_at"]))
        found, cursor = _single_keyset(rows, "mrn", query, lambda p: p.mrn)
        return Page(
            [_dump(mapping.patient_resource(p)) for p in found], cursor,
            {str(p.pk) for p in found},
        )  # fmt: skip


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
        pk = parse_uuid(ident)
        user = self._rows().filter(pk=pk).first() if pk else None
        if user is None:
            raise not_found("Practitioner", ident)
        return Page([_dump(mapping.practitioner_resource(user))], None)

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows()
        for raw in query.values.get("_id", []):
            rows = rows.filter(
                pk__in=[parse_uuid(p) or uuid.UUID(int=0) for p in split_values(raw)]
            )
        for raw in query.values.get("name", []):
            rows = rows.filter(full_name__icontains=raw)
        found, cursor = _single_keyset(rows, "full_name", query, lambda u: u.full_name)
        return Page([_dump(mapping.practitioner_resource(u)) for u in found], cursor)


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
        return _dump(resource)

    def read(self, grant: Grant, ident: str) -> Page:
        code = ident.replace("-", "_")
        if code not in INSTRUMENTS:
            raise not_found("Questionnaire", ident)
        return Page([self._resource(code)], None)

    def search(self, grant: Grant, query: Query) -> Page:
        codes = sorted(INSTRUMENTS)
        for raw in query.values.get("_id", []):
            codes = [c for c in codes if questionnaire_id(c) in split_values(raw)]
        for raw in query.values.get("url", []):
            codes = [
                c for c in codes if fhir_shape.questionnaire_url(c) == raw.split("|")[0]
            ]
        for alternatives in query.tokens("code"):
            codes = [
                c for c in codes
                if any(t.matches(mapping.LOINC, INSTRUMENTS[c].loinc or None) for t in alternatives)
            ]  # fmt: skip
        for raw in query.values.get("name", []):
            codes = [c for c in codes if raw.lower() in INSTRUMENTS[c].name.lower()]
        return Page([self._resource(c) for c in codes], None)


def _live_responses() -> QuerySet[QuestionnaireResponse]:
    return QuestionnaireResponse.objects.exclude(
        status=QuestionnaireResponse.Status.ENTERED_IN_ERROR
    )


class QuestionnaireResponseHandler(Handler):
    resource_type = "QuestionnaireResponse"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "questionnaire": "reference", "authored": "date", "_lastUpdated": "date",
    }  # fmt: skip
    sort_params = ("authored",)

    def _rows(self, grant: Grant) -> QuerySet[QuestionnaireResponse]:
        rows = _live_responses()
        if grant.patient_id is not None:
            rows = rows.filter(patient_id=grant.patient_id)
        return rows

    def read(self, grant: Grant, ident: str) -> Page:
        pk = parse_uuid(ident)
        response = self._rows(grant).filter(pk=pk).first() if pk else None
        if response is None:
            raise not_found("QuestionnaireResponse", ident)
        resource = mapping.questionnaire_response_resource(response)
        return Page([resource], None, {str(response.patient_id)})

    def search(self, grant: Grant, query: Query) -> Page:
        rows = self._rows(grant).filter(self.patient_filter(grant, query, "patient_id"))
        for raw in query.values.get("_id", []):
            rows = rows.filter(
                pk__in=[parse_uuid(p) or uuid.UUID(int=0) for p in split_values(raw)]
            )
        for raw in query.values.get("questionnaire", []):
            wanted = {
                p.split("|")[0].removeprefix("Questionnaire/")
                for p in split_values(raw)
            }
            codes = [
                c for c in INSTRUMENTS
                if wanted & {questionnaire_id(c), fhir_shape.questionnaire_url(c)}
            ]  # fmt: skip
            rows = rows.filter(instrument__in=codes)
        rows = rows.filter(_date_filter("authored_at", query.dates("authored")))
        rows = rows.filter(_date_filter("created_at", query.dates("_lastUpdated")))
        rows = rows.filter(changed_filter(query, ["created_at"]))
        found, cursor = _single_keyset(
            rows, "authored_at", query, lambda r: r.authored_at.isoformat()
        )
        return Page(
            [mapping.questionnaire_response_resource(r) for r in found], cursor,
            {str(r.patient_id) for r in found},
        )  # fmt: skip


# Merged keyset paging over several tables.


@dataclass(frozen=True)
class Entry:
    """One resource on a page with its place in the total order."""

    moment: datetime
    rank: int
    key: Any
    sub: int
    patient: str
    resource: dict[str, Any]

    @property
    def order(self) -> tuple[datetime, int, Any, int]:
        return (self.moment, self.rank, self.key, self.sub)


@dataclass(frozen=True)
class Source:
    """One table behind a resource type: its rows (already limited to what can
    yield an entry), the `patient` field, the date field it is ordered and
    filtered on, how a pk is read back from a cursor, and its entries."""

    rows: Callable[[Query], QuerySet[Any]]
    patient_field: str
    date_field: str
    expand: Callable[[Any], list[tuple[int, dict[str, Any]]]]
    pk_from_text: Callable[[str], Any] = lambda text: uuid.UUID(text)
    changed: tuple[str, ...] = ()


def changed_filter(query: Query, fields: Sequence[str]) -> Q:
    """For bulk export: rows changed since `_changed_since` (any of the change
    fields) and not after `_changed_until` (none of them), both internal values
    that no client can send."""
    condition = Q()
    since = query.values.get("_changed_since")
    until = query.values.get("_changed_until")
    if not fields:
        return condition
    if since:
        moment = _moment(since[0])
        either = Q(pk__in=[])
        for name in fields:
            either |= Q(**{f"{name}__gte": moment})
        condition &= either
    if until:
        moment = _moment(until[0])
        for name in fields:
            condition &= Q(**{f"{name}__lte": moment}) | Q(**{f"{name}__isnull": True})
    return condition


def _cursor_of(entry: Entry) -> Cursor:
    return Cursor("", entry.moment.isoformat(), f"{entry.rank}:{entry.key}:{entry.sub}")


def _merged_page(
    handler: Handler, grant: Grant, query: Query, sources: Sequence[Source],
    dates: list[DateRange],
) -> Page:  # fmt: skip
    after: tuple[datetime, int, Any, int] | None = None
    if query.cursor is not None:
        try:
            rank_text, key_text, sub_text = query.cursor.ident.split(":")
            rank, sub = int(rank_text), int(sub_text)
            key = sources[rank].pk_from_text(key_text)
        except (ValueError, IndexError) as exc:
            raise ParameterError("_cursor: this paging link is damaged.") from exc
        after = (_moment(query.cursor.moment), rank, key, sub)
    entries: list[Entry] = []
    more = False
    sign = "-" if query.descending else ""
    for rank, source in enumerate(sources):
        rows = source.rows(query).filter(
            handler.patient_filter(grant, query, source.patient_field)
        )
        rows = rows.filter(_date_filter(source.date_field, dates))
        rows = rows.filter(changed_filter(query, source.changed))
        if after is not None:
            rows = rows.filter(_after(source, rank, after, query.descending))
        rows = rows.order_by(f"{sign}{source.date_field}", f"{sign}pk")
        found = list(rows[: query.count + 1])
        more = more or len(found) > query.count
        for row in found:
            moment = _as_moment(getattr(row, source.date_field))
            patient = str(_follow(row, source.patient_field))
            for sub, resource in source.expand(row):
                entries.append(Entry(moment, rank, row.pk, sub, patient, resource))
    if after is not None:
        entries = [
            e for e in entries
            if (e.order < after if query.descending else e.order > after)
        ]  # fmt: skip
    entries.sort(key=lambda e: e.order, reverse=query.descending)
    shown = entries[: query.count]
    more = more or len(entries) > query.count
    return Page(
        [e.resource for e in shown],
        _cursor_of(shown[-1]) if more and shown else None,
        {e.patient for e in shown},
    )


def _follow(row: Any, path: str) -> Any:
    """`session__patient_id` -> row.session.patient_id."""
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def _after(
    source: Source, rank: int, after: tuple[datetime, int, Any, int], descending: bool
) -> Q:
    """Rows that can hold entries after the cursor in (date, table, row, entry)
    order: later dates, or the same date in a later table, or the same table from
    the cursor's row on (its remaining entries are filtered in Python)."""
    moment, cursor_rank, key, _ = after
    value: Any = moment
    beyond, ahead = ("lt", "lte") if descending else ("gt", "gte")
    condition = Q(**{f"{source.date_field}__{beyond}": value})
    later_table = rank < cursor_rank if descending else rank > cursor_rank
    if later_table:
        condition |= Q(**{source.date_field: value})
    elif rank == cursor_rank:
        condition |= Q(**{source.date_field: value, f"pk__{ahead}": key})
    return condition


# Observation: questionnaire scores, vital signs and body weight.

VITAL_FIELDS = {
    "bp": Q(systolic__isnull=False, diastolic__isnull=False),
    "hr": Q(heart_rate__isnull=False),
    "rr": Q(respiratory_rate__isnull=False),
    "spo2": Q(spo2__isnull=False),
    "temp": Q(temperature_c__isnull=False),
}
VITAL_ORDER = ["bp", "hr", "rr", "spo2", "temp"]
VITAL_CODES = {"bp": mapping.BP[1], **{k: v.loinc for k, v in mapping.VITALS.items()}}


class ObservationHandler(Handler):
    """Questionnaire scores (category survey), vital signs and body weight
    (category vital-signs), merged in date order from their three tables."""

    resource_type = "Observation"
    search_params = {
        "_id": "token", "patient": "reference", "subject": "reference",
        "code": "token", "category": "token", "date": "date",
    }  # fmt: skip
    sort_params = ("date",)

    def _plan(self, query: Query, grant: Grant) -> list[Source]:
        """The tables this search needs, each narrowed in SQL to rows that yield
        a wanted entry; ids, codes and categories are all applied here."""
        survey = vitals = True
        for alternatives in query.tokens("category"):
            kinds = {
                t.code for t in alternatives
                if t.code and t.matches(mapping.CATEGORY, t.code)
            }  # fmt: skip
            survey = survey and "survey" in kinds
            vitals = vitals and "vital-signs" in kinds
        wanted_signs = set(VITAL_ORDER)
        weight = True
        totals_only = False
        instruments = set(INSTRUMENTS)
        for alternatives in query.tokens("code"):
            wanted_signs &= {
                k for k, code in VITAL_CODES.items()
                if any(t.matches(mapping.LOINC, code) for t in alternatives)
            }  # fmt: skip
            weight = weight and any(
                t.matches(mapping.LOINC, mapping.WEIGHT[0]) for t in alternatives
            )
            instruments &= {
                c for c, d in INSTRUMENTS.items()
                if d.total_loinc and any(t.matches(mapping.LOINC, d.total_loinc) for t in alternatives)
            }  # fmt: skip
            totals_only = True
        ids: dict[str, set[Any]] | None = None
        for raw in query.values.get("_id", []):
            wanted_ids = _observation_ids(split_values(raw))
            ids = (
                wanted_ids if ids is None else {k: ids[k] & wanted_ids[k] for k in ids}
            )
        scores_rows = _live_responses().filter(instrument__in=instruments)
        if totals_only:
            scores_rows = scores_rows.filter(total__isnull=False)
        vital_rows = VitalSign.objects.select_related("session")
        any_sign = Q(pk__in=[])
        for key in wanted_signs:
            any_sign |= VITAL_FIELDS[key]
        vital_rows = vital_rows.filter(any_sign)
        weight_rows = DosingSession.objects.filter(weight_kg__isnull=False)
        if ids is not None:
            scores_rows = scores_rows.filter(pk__in=ids["s"])
            vital_rows = vital_rows.filter(pk__in=ids["v"])
            weight_rows = weight_rows.filter(pk__in=ids["w"])
        wanted_ids_all = None if ids is None else ids.get("full", set())

        def keep(
            items: list[tuple[int, Observation]],
        ) -> list[tuple[int, dict[str, Any]]]:
            return [
                (n, _dump(o)) for n, o in items
                if wanted_ids_all is None or str(o.id) in wanted_ids_all
            ]  # fmt: skip

        sources = []
        if survey and instruments:
            sources.append(
                Source(
                    lambda q: scores_rows, "patient_id", "authored_at",
                    lambda r: keep(_score_entries(r, totals_only)),
                    changed=("created_at",),
                )
            )  # fmt: skip
        if vitals and wanted_signs:
            sources.append(
                Source(
                    lambda q: vital_rows, "session__patient_id", "taken_at",
                    lambda v: keep(_vital_entries(v, wanted_signs)), int,
                    changed=("recorded_at",),
                )
            )  # fmt: skip
        if vitals and weight:
            sources.append(
                Source(
                    lambda q: weight_rows, "patient_id", "opened_at",
                    lambda s: keep([(0, mapping.weight_observation(s))]),
                    changed=("updated_at",),
                )
            )  # fmt: skip
        return sources

    def read(self, grant: Grant, ident: str) -> Page:
        query = Query({"_id": [ident]}, 1, None, True, UTC_ZONE)
        sources = self._plan(query, grant)
        page = _merged_page(self, grant, query, sources, [])
        if not page.resources:
            raise not_found("Observation", ident)
        return Page(page.resources[:1], None, page.patients)

    def search(self, grant: Grant, query: Query) -> Page:
        sources = self._plan(query, grant)
        if not sources:
            return Page([], None)
        return _merged_page(self, grant, query, sources, query.dates("date"))


def _observation_ids(raw_ids: Iterable[str]) -> dict[str, set[Any]]:
    """`s-<hex>-<n>`, `v-<int>-<sign>`, `w-<hex>` -> the rows to read."""
    rows: dict[str, set[Any]] = {"s": set(), "v": set(), "w": set(), "full": set()}
    for ident in raw_ids:
        kind, _, rest = ident.partition("-")
        key = rest.split("-")[0]
        if kind in {"s", "w"} and (pk := parse_uuid(key)) is not None:
            rows[kind].add(pk)
        elif kind == "v" and key.isascii() and key.isdigit() and len(key) < 18:
            rows["v"].add(int(key))
        rows["full"].add(ident)
    return rows


def _score_entries(
    response: QuestionnaireResponse, totals_only: bool
) -> list[tuple[int, Observation]]:
    observations = mapping.score_observations(response)
    if totals_only:
        observations = observations[:1] if response.total is not None else []
    return list(enumerate(observations))


def _vital_entries(vital: VitalSign, wanted: set[str]) -> list[tuple[int, Observation]]:
    items = []
    for observation in mapping.vital_observations(vital, vital.session.patient_id):
        sign = str(observation.id).rsplit("-", 1)[1]
        if sign in wanted:
            items.append((VITAL_ORDER.index(sign), observation))
    return items


# Resource types built from whole rows.


class RowHandler(Handler):
    """A resource type built from one or more tables, one resource per row,
    merged in date order. Ids are the rows' UUIDs, unique across tables."""

    sources: tuple[Source, ...] = ()
    date_param = "date"
    filters: dict[str, Callable[[str], Q]] = {}

    def _narrowed(self, query: Query) -> list[Source]:
        def narrow(source: Source) -> Callable[[Query], QuerySet[Any]]:
            def rows(q: Query) -> QuerySet[Any]:
                found = source.rows(q)
                for raw in q.values.get("_id", []):
                    found = found.filter(
                        pk__in=[
                            parse_uuid(p) or uuid.UUID(int=0) for p in split_values(raw)
                        ]
                    )
                for name, make in self.filters.items():
                    for raw in q.values.get(name, []):
                        either = Q(pk__in=[])
                        for part in split_values(raw):
                            either |= make(part)
                        found = found.filter(either)
                return found

            return rows

        return [
            Source(
                narrow(s),
                s.patient_field,
                s.date_field,
                s.expand,
                s.pk_from_text,
                s.changed,
            )
            for s in self.sources
        ]

    def read(self, grant: Grant, ident: str) -> Page:
        query = Query({"_id": [ident]}, 1, None, True, UTC_ZONE)
        page = _merged_page(self, grant, query, self._narrowed(query), [])
        if not page.resources:
            raise not_found(self.resource_type, ident)
        return Page(page.resources[:1], None, page.patients)

    def search(self, grant: Grant, query: Query) -> Page:
        return _merged_page(
            self, grant, query, self._narrowed(query), query.dates(self.date_param)
        )


def _whole(
    build: Callable[[Any], dict[str, Any]],
) -> Callable[[Any], list[tuple[int, dict[str, Any]]]]:
    return lambda row: [(0, build(row))]


class EncounterHandler(RowHandler):
    """Dosing sessions (from their opening) and integration sessions (from when
    their note was written; their day is period.start). Both are instants, so
    the two tables page together exactly."""

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
            lambda q: DosingSession.objects.all(), "patient_id", "opened_at",
            _whole(mapping.dosing_encounter), changed=("updated_at",),
        ),
        Source(
            lambda q: IntegrationSession.objects.all(), "patient_id", "created_at",
            _whole(mapping.integration_encounter), changed=("updated_at",),
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
            lambda q: DosingSession.objects.filter(dose_started_at__isnull=False)
            .select_related("course__protocol").prefetch_related("infusion_events"),
            "patient_id", "dose_started_at", _whole(mapping.medication_administration),
            changed=("updated_at",),
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
            lambda q: SafetyAlert.objects.filter(patient__isnull=False), "patient_id",
            "raised_at", _whole(mapping.flag),
            changed=("raised_at", "acknowledged_at", "resolved_at"),
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
            lambda q: Appointment.objects.select_related("appointment_type", "resource"),
            "patient_id", "starts_at", _whole(mapping.appointment),
            changed=("updated_at",),
        ),
    )  # fmt: skip


class ConsentHandler(RowHandler):
    resource_type = "Consent"
    search_params = {"_id": "token", "patient": "reference", "date": "date"}
    sort_params = ("date",)
    sources = (
        Source(
            lambda q: ConsentSignature.objects.select_related("document"), "patient_id",
            "signed_at", _whole(mapping.consent), changed=("recorded_at",),
        ),
    )  # fmt: skip


HANDLERS: dict[str, Handler] = {
    handler.resource_type: handler
    for handler in (
        PatientHandler(), PractitionerHandler(), QuestionnaireHandler(),
        QuestionnaireResponseHandler(), ObservationHandler(), EncounterHandler(),
        MedicationAdministrationHandler(), FlagHandler(), AppointmentHandler(),
        ConsentHandler(),
    )
}  # fmt: skip
