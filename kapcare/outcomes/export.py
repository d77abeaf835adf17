"""The dashboard's cohort as CSV: one row per patient-course.

Pseudonymised by default: a keyed hash of the patient's id (HMAC-SHA256 with a key
derived from SECRET_KEY), stable across exports so rows can be linked over time but
not back to a person without the key; age band instead of the date of birth; no
names, MRN or health number. Identifiable rows (MRN and name) only for staff with
outcomes.export_identifiable, with a reason; each patient exported then appears
in their own access log."""

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Context, PendingEvent, record_events
from kapcare.measures.outcomes import OutcomeError, Programme, outcome
from kapcare.outcomes.definitions import DASHBOARD_INSTRUMENTS
from kapcare.outcomes.models import CohortExport
from kapcare.outcomes.services import (
    AGE_BANDS,
    CohortFilters,
    analytic_queries,
    cohort,
    course_scores,
)
from kapcare.treatment.models import Drug


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why."""


def pseudonym(patient_id: object) -> str:
    key = hashlib.sha256(
        f"kapcare-cohort-export:{settings.SECRET_KEY}".encode()
    ).digest()
    digest = hmac.new(key, str(patient_id).encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:16]}"


def age_band(age: int) -> str:
    for band, (low, high) in AGE_BANDS.items():
        if age >= low and (high is None or age <= high):
            return band
    return "under 18"


def header(identifiable: bool) -> list[str]:
    who = (
        ["mrn", "legal_name", "date_of_birth"]
        if identifiable
        else ["patient_pseudonym"]
    )
    columns = [
        *who, "age_band", "sex_at_birth", "indication", "route", "drug", "phase",
        "status", "first_dose_date" if identifiable else "first_dose_month", "doses_given",
    ]  # fmt: skip
    for code in DASHBOARD_INSTRUMENTS:
        columns += [f"{code}_baseline", f"{code}_latest", f"{code}_change",
                    f"{code}_response", f"{code}_remission"]  # fmt: skip
    return columns


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @) is quoted (OWASP CSV
    injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _first_dose(when: Any, identifiable: bool) -> str:
    """The clinic's date of the first dose; only its month when pseudonymised (an
    exact date with sex and age band narrows a small clinic's patients too far)."""
    if when is None:
        return ""
    day = timezone.localdate(when)
    return day.isoformat() if identifiable else f"{day:%Y-%m}"


def _flag(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def rows(filters: CohortFilters, identifiable: bool) -> Iterator[tuple[Any, list[str]]]:
    """Each course's patient id and CSV row (without the header): one query for the
    courses and one per instrument for the scores, however many courses."""
    with analytic_queries():
        scores = {code: course_scores(filters, code) for code in DASHBOARD_INSTRUMENTS}
    courses = (
        cohort(filters)
        .select_related("patient", "protocol")
        .annotate(
            doses=Count("sessions", filter=Q(sessions__dose_started_at__isnull=False))
        )
        .order_by("first_dose_at", "pk")
    )
    for course in courses:
        patient = course.patient
        age = patient.age_on(filters.ends_on)
        who = (
            [patient.mrn, _cell(f"{patient.legal_family_name}, {patient.legal_given_name}"),
             patient.born_on.isoformat()]
            if identifiable else [pseudonym(patient.pk)]
        )  # fmt: skip
        first_dose = course.first_dose_at
        row = [
            *who, age_band(age), patient.sex_at_birth, course.indication,
            course.protocol.route, course.protocol.drug, course.phase, course.status,
            _first_dose(first_dose, identifiable), str(course.doses),
        ]  # fmt: skip
        for code in DASHBOARD_INSTRUMENTS:
            base, latest = scores[code].get(course.pk, (None, None))
            if base is None or latest is None:
                row += [_number(base), _number(latest), "", "", ""]
                continue
            programme: Programme = (
                "esketamine" if course.protocol.drug == Drug.ESKETAMINE else "ketamine"
            )
            try:
                result = outcome(code, baseline=base, final=latest, programme=programme)
            except OutcomeError:
                row += [_number(base), _number(latest), "", "", ""]
                continue
            row += [
                _number(base), _number(latest), _number(latest - base),
                _flag(result.response), _flag(result.remission),
            ]  # fmt: skip
        yield patient.pk, row


def _number(value: Any) -> str:
    if value is None:
        return ""
    text = f"{value:f}" if hasattr(value, "as_tuple") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_identifiable(by: User, reason: str) -> None:
    if not by.has_perm("outcomes.export_identifiable"):
        raise ExportError("Only the clinic admin may export identifiable rows.")
    if not reason.strip():
        raise ExportError("Give the reason identifiable rows are needed.")


def _record(
    *,
    context: Context,
    by: User,
    filters: CohortFilters,
    rows: int,
    reason: str = "",
    patients: Iterable[Any] = (),
) -> CohortExport:
    """The export record, its audit event and, for identifiable rows, one event per
    patient, in one transaction."""
    identifiable = bool(reason)
    with transaction.atomic():
        export = CohortExport.objects.create(
            exported_by=by, filters=filters.as_dict(), identifiable=identifiable,
            reason=reason, rows=rows,
        )  # fmt: skip
        detail = {"filters": filters.as_dict(), "rows": rows, "reason": reason}
        events = [
            PendingEvent(
                action=Action.EXPORT, object_type="cohort_export", object_id=str(export.pk),
                summary=f"Exported the outcome cohort ({'identifiable' if identifiable else 'pseudonymised'}, {rows} rows)",
                detail=detail,
            )
        ]  # fmt: skip
        events += [
            PendingEvent(
                action=Action.EXPORT, patient_id=str(patient_id),
                information="clinical", object_type="cohort_export",
                object_id=str(export.pk),
                summary="Included in an identifiable outcome export",
                detail={"reason": reason},
            )
            for patient_id in dict.fromkeys(patients)
        ]  # fmt: skip
        record_events(events, context=context)
    return export


def pseudonymised_export(
    *, context: Context, by: User, filters: CohortFilters
) -> Iterator[str]:
    """Records the export (the cohort's size now), then the CSV lines, streamed."""
    _record(context=context, by=by, filters=filters, rows=cohort(filters).count())
    return csv_lines(header(False), (row for _, row in rows(filters, False)))


def identifiable_export(
    *, context: Context, by: User, filters: CohortFilters, reason: str
) -> str:
    """The whole CSV, built before it is recorded, so each patient in it, and only
    those, appears in their own access log; nothing leaves if the audit fails."""
    _check_identifiable(by, reason)
    found = list(rows(filters, True))
    _record(
        context=context, by=by, filters=filters, rows=len(found),
        reason=reason.strip(), patients=(patient_id for patient_id, _ in found),
    )  # fmt: skip
    return "".join(csv_lines(header(True), (row for _, row in found)))


def csv_lines(columns: list[str], lines: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in lines:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
