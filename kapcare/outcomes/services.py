"""The clinic outcome dashboard, computed in the database: a cohort of
patient-courses chosen by period and filters, and per instrument a handful of SQL
aggregates over it (no Python loop over patients or responses).

Operational definitions (Kapcare's, stated on the page; the clinical thresholds
are cited in kapcare/outcomes/definitions.py):
- The cohort: treatment courses whose first dose started in the period, narrowed
  by indication, route, phase, prescribing clinician, sex at birth and age band
  (age at the end of the period).
- Baseline: the course's last score on the instrument in the 30 days up to and
  including its first dose. Latest: its last score after the first dose, up to the
  end of the period or the course's end date, whichever is first. A course counts
  for an instrument only with both.
- Time to first response: from the first dose to the first score meeting the
  response definition, among the courses that reached it.
"""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from kapcare.intake.models import ConsultationRequest, EligibilityAssessment
from kapcare.measures.models import QuestionnaireResponse
from kapcare.outcomes.charts import (
    Bin,
    SessionMean,
    change_histogram_svg,
    mean_by_session_svg,
)
from kapcare.outcomes.definitions import (
    BASELINE_WINDOW_DAYS,
    DASHBOARD_INSTRUMENTS,
    InstrumentDefinitions,
    MeanInterval,
    definitions_for,
    mean_with_ci,
    percent,
)
from kapcare.safety.models import SafetyAlert
from kapcare.treatment.models import (
    AdverseEvent,
    DosingSession,
    Drug,
    TreatmentCourse,
    VitalSign,
)


@contextmanager
def analytic_queries() -> Iterator[None]:
    """Around the dashboard's and the export's statements. On PostgreSQL, its JIT
    compiler is off for this transaction only (SET LOCAL, which also passes through
    connection poolers): it compiled each instrument's statement for about 1.3 s to
    run about 1 s of work (make bench). On SQLite nothing: a transaction there would
    take the write lock for the whole page."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


RECOVERY_MIN_DOSES = 2
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, None),
}


@dataclass(frozen=True)
class CohortFilters:
    starts_on: date
    ends_on: date
    indication: str = ""
    route: str = ""
    phase: str = ""
    clinician_id: uuid.UUID | None = None
    age_band: str = ""
    sex: str = ""

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["starts_on"] = self.starts_on.isoformat()
        values["ends_on"] = self.ends_on.isoformat()
        values["clinician_id"] = str(self.clinician_id) if self.clinician_id else ""
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def period(self) -> tuple[datetime, datetime]:
        """[start, end) in the clinic's time zone."""
        start = timezone.make_aware(datetime.combine(self.starts_on, time.min))
        end = timezone.make_aware(
            datetime.combine(self.ends_on + timedelta(days=1), time.min)
        )
        return start, end


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _patient_filters(filters: CohortFilters, prefix: str = "patient__") -> Q:
    q = Q()
    if filters.sex:
        q &= Q(**{f"{prefix}sex_at_birth": filters.sex})
    if filters.age_band:
        low, high = AGE_BANDS[filters.age_band]
        q &= Q(**{f"{prefix}born_on__lte": years_before(filters.ends_on, low)})
        if high is not None:
            q &= Q(**{f"{prefix}born_on__gt": years_before(filters.ends_on, high + 1)})
    return q


def cohort(filters: CohortFilters) -> QuerySet[TreatmentCourse]:
    """The patient-courses whose first dose started in the period, filtered."""
    start, end = filters.period
    courses = TreatmentCourse.objects.filter(
        first_dose_at__gte=start, first_dose_at__lt=end
    ).filter(_patient_filters(filters))
    if filters.indication:
        courses = courses.filter(indication=filters.indication)
    if filters.route:
        courses = courses.filter(protocol__route=filters.route)
    if filters.phase:
        courses = courses.filter(phase=filters.phase)
    if filters.clinician_id:
        courses = courses.filter(prescriber_id=filters.clinician_id)
    return courses


def courses_with_scores(filters: CohortFilters, code: str) -> QuerySet[Any]:
    """The cohort with the ids of each course's baseline and latest response on one
    instrument, each found by the (patient, instrument, date) index, newest first."""
    responses = QuestionnaireResponse.objects.filter(
        patient_id=OuterRef("patient_id"),
        instrument=code,
        status=QuestionnaireResponse.Status.COMPLETED,
        total__isnull=False,
    )
    newest_first = ("-authored_at", "-created_at", "-pk")
    baseline = responses.filter(
        authored_at__lte=OuterRef("first_dose_at"),
        authored_at__gte=OuterRef("baseline_from"),
    ).order_by(*newest_first)
    _, period_end = filters.period
    latest = (
        responses.filter(authored_at__gt=OuterRef("first_dose_at"))
        .filter(authored_at__lt=period_end)  # an index bound that is a constant
        .filter(authored_at__lt=OuterRef("latest_before"))
        .order_by(*newest_first)
    )
    return (
        cohort(filters)
        .order_by()
        .annotate(
            baseline_from=ExpressionWrapper(
                F("first_dose_at") - timedelta(days=BASELINE_WINDOW_DAYS),
                output_field=DateTimeField(),
            ),
            latest_before=Least(
                Coalesce(F("ended_at"), Value(period_end)),
                Value(period_end),
                output_field=DateTimeField(),
            ),
            drug=F("protocol__drug"),
            baseline_pk=Subquery(baseline.values("pk")[:1]),
            latest_pk=Subquery(latest.values("pk")[:1]),
        )
    )


def scored_cohort(filters: CohortFilters, code: str) -> QuerySet[Any, dict[str, Any]]:
    """The cohort with each course's baseline and latest score on one instrument
    (None where it has none)."""
    by_pk = QuestionnaireResponse.objects.filter
    scored: QuerySet[Any, dict[str, Any]] = (
        courses_with_scores(filters, code)
        .annotate(
            baseline_total=Subquery(by_pk(pk=OuterRef("baseline_pk")).values("total")),
            latest_total=Subquery(by_pk(pk=OuterRef("latest_pk")).values("total")),
            latest_at=Subquery(by_pk(pk=OuterRef("latest_pk")).values("authored_at")),
        )
        .values(
            "pk", "patient_id", "first_dose_at", "drug", "baseline_total",
            "latest_total", "latest_at",
        )
    )  # fmt: skip
    return scored


Condition = tuple[str, list[Any]]


def _conditions(rules: InstrumentDefinitions) -> dict[str, Condition]:
    """SQL conditions over the scored row s (b = baseline, l = latest) for each
    cited definition the instrument has, each with its own parameters."""
    conditions: dict[str, Condition] = {}
    if rules.response_percent:
        conditions["response"] = ("s.b > 0 AND 2 * s.l <= s.b", [])
        conditions["response_base"] = ("s.b > 0", [])
    elif rules.response_points is not None:
        conditions["response"] = ("s.b - s.l >= %s", [rules.response_points])
    if rules.esketamine_remission_limit is not None:
        conditions["remission"] = (
            "s.l <= CASE WHEN s.drug = %s THEN %s ELSE %s END",
            [Drug.ESKETAMINE, rules.esketamine_remission_limit, rules.remission_limit],
        )
    elif rules.remission_limit is not None:
        below = "s.l < %s" if rules.remission_strict else "s.l <= %s"
        conditions["remission"] = (below, [rules.remission_limit])
    if rules.reliable_change is not None:
        conditions["reliable_improvement"] = (
            "s.b - s.l >= %s",
            [rules.reliable_change],
        )
        conditions["reliable_deterioration"] = (
            "s.l - s.b >= %s",
            [rules.reliable_change],
        )
    if rules.caseness_from is not None:
        # Talking Therapies count only finished courses: >= 2 attended treatment
        # appointments (clinical rules §7), here doses given by the latest score.
        case = f"s.b >= %s AND s.attended >= {RECOVERY_MIN_DOSES}"
        conditions["case_at_baseline"] = (case, [rules.caseness_from])
        conditions["recovery"] = (
            f"{case} AND s.l < %s",
            [rules.caseness_from, rules.caseness_from],
        )
        if rules.reliable_change is not None:
            conditions["reliable_recovery"] = (
                f"{case} AND s.l < %s AND s.b - s.l >= %s",
                [rules.caseness_from, rules.caseness_from, rules.reliable_change],
            )
    return conditions


def _scores_cte(filters: CohortFilters, code: str) -> tuple[str, list[Any]]:
    """Two common table expressions: "courses", the cohort with the ids of each
    course's baseline and latest response, materialised once; and "scores", each
    course with those two scores read by primary key (b, l; NULL where missing)."""
    inner, params = (
        courses_with_scores(filters, code)
        .values("pk", "patient_id", "first_dose_at", "drug", "baseline_from",
                "baseline_pk", "latest_pk")
        .query.sql_with_params()
    )  # fmt: skip
    responses = connection.ops.quote_name(QuestionnaireResponse._meta.db_table)
    sql = (
        f"courses AS MATERIALIZED ({inner}), "  # noqa: S608 - our names; values are parameters
        "scores AS (SELECT c.pk, c.patient_id, c.first_dose_at, c.drug, c.baseline_from, "
        f"(SELECT r.total FROM {responses} r WHERE r.id = c.baseline_pk) AS b, "
        f"(SELECT r.total FROM {responses} r WHERE r.id = c.latest_pk) AS l, "
        f"(SELECT r.authored_at FROM {responses} r WHERE r.id = c.latest_pk) AS latest_at "
        "FROM courses c)"
    )
    return sql, list(params)


def course_scores(
    filters: CohortFilters, code: str
) -> dict[uuid.UUID, tuple[float | None, float | None]]:
    """Each cohort course's baseline and latest score on one instrument (None where
    it has none), in one statement."""
    scores, params = _scores_cte(filters, code)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {scores} SELECT pk, b, l FROM scores", params)  # noqa: S608 - as above
        found = cursor.fetchall()
    return {
        pk if isinstance(pk, uuid.UUID) else uuid.UUID(pk): (
            None if base is None else float(base),
            None if latest is None else float(latest),
        )
        for pk, base, latest in found
    }  # fmt: skip


def instrument_sql(filters: CohortFilters, code: str) -> tuple[str, list[Any]]:
    """One statement per instrument. The courses with a baseline and a latest score
    are paired once; from them come a "summary" row (sums, the cited counts, the
    change histogram, the median time to first response by window functions) and
    one "doses" row per number of doses given before a score (the mean-by-dose
    chart: each course's last score in each interval between doses, from the
    baseline window to its latest score; a dose at the same instant comes after
    the score)."""
    rules = definitions_for(code)
    scores, scores_params = _scores_cte(filters, code)
    conditions = _conditions(rules)
    condition_params = [p for _, params in conditions.values() for p in params]
    summary = [
        "COUNT(*) AS n", "SUM(s.b) AS sum_b", "SUM(s.b * s.b) AS sum_b2",
        "SUM(s.l) AS sum_l", "SUM(s.l * s.l) AS sum_l2", "SUM(s.l - s.b) AS sum_c",
        "SUM((s.l - s.b) * (s.l - s.b)) AS sum_c2",
        *(f"SUM(CASE WHEN {sql} THEN 1 ELSE 0 END) AS {name}"
          for name, (sql, _) in conditions.items()),
    ]  # fmt: skip
    edges = change_bins(code)
    summary += [
        f"SUM(CASE WHEN s.l - s.b >= %s AND s.l - s.b < %s THEN 1 ELSE 0 END) AS bin_{k}"
        for k in range(len(edges))
    ]
    summary += [
        "(SELECT COUNT(*) FROM waits) AS reached",
        "(SELECT AVG(wait) FROM waits WHERE n IN ((reached + 1) / 2, (reached + 2) / 2)) "
        "AS median_wait",
    ]
    bin_params = [edge for pair in edges for edge in pair]
    quote = connection.ops.quote_name
    responses = quote(QuestionnaireResponse._meta.db_table)
    sessions = quote(DosingSession._meta.db_table)
    completed = QuestionnaireResponse.Status.COMPLETED
    # a NULL of the timestamp type (PostgreSQL will not subtract an untyped NULL)
    first_response_sql, first_params = (
        "(CASE WHEN 1 = 0 THEN s.first_dose_at END)",
        list[Any](),
    )
    if "response" in conditions:
        # the response condition again, on each later score r instead of s.l
        response_sql, response_params = conditions["response"]
        on_r = response_sql.replace("s.l", "r.total")
        first_response_sql = (
            f"(SELECT MIN(r.authored_at) FROM {responses} r WHERE r.patient_id = s.patient_id "  # noqa: S608 - our names; values are parameters
            f"AND r.instrument = %s AND r.status = %s AND r.total IS NOT NULL "
            f"AND r.authored_at > s.first_dose_at AND r.authored_at <= s.latest_at AND {on_r})"
        )
        first_params = [code, completed, *response_params]
    wait = connection.ops.subtract_temporals(
        "DateTimeField", ("f.first_response_at", []), ("f.first_dose_at", [])
    )
    # the "doses" rows fill the first three columns and leave the rest empty
    padding = ", NULL" * (len(summary) - 3)
    sql = (
        f"WITH {scores}, "  # noqa: S608 - our names; values are parameters
        "paired AS MATERIALIZED (SELECT scores.*, "
        f"(SELECT COUNT(*) FROM {sessions} d WHERE d.course_id = scores.pk "
        "AND d.dose_started_at IS NOT NULL AND d.dose_started_at <= scores.latest_at) "
        "AS attended FROM scores WHERE b IS NOT NULL AND l IS NOT NULL), "
        f"firsts AS MATERIALIZED (SELECT s.first_dose_at, {first_response_sql} AS first_response_at "
        "FROM paired s), "
        f"waits AS (SELECT {wait[0]} AS wait, ROW_NUMBER() OVER (ORDER BY {wait[0]}) AS n, "
        "COUNT(*) OVER () AS reached FROM firsts f WHERE f.first_response_at IS NOT NULL), "
        # scores and doses of each course in one time line, with a running count
        # of the doses before each score
        "events AS (SELECT p.pk AS course_id, r.authored_at AS at, 0 AS is_dose, "
        "r.created_at AS entered_at, r.id AS response_id, "
        f"r.total AS total FROM paired p JOIN {responses} r ON r.patient_id = p.patient_id "
        "AND r.instrument = %s AND r.status = %s AND r.total IS NOT NULL "
        "AND r.authored_at >= p.baseline_from AND r.authored_at <= p.latest_at "
        "UNION ALL SELECT p.pk, d.dose_started_at, 1, NULL, NULL, NULL FROM paired p "
        f"JOIN {sessions} d ON d.course_id = p.pk AND d.dose_started_at IS NOT NULL "
        "AND d.dose_started_at <= p.latest_at), "
        # in one sort: the doses so far, and whether a dose (or nothing) comes
        # next, which makes a score the last in its interval (scores at the same
        # instant in the order the baseline and latest use: the later entered last)
        "numbered AS (SELECT is_dose, total, SUM(is_dose) OVER timeline AS doses, "
        "LEAD(is_dose) OVER timeline AS next_is_dose FROM events WINDOW timeline AS "
        "(PARTITION BY course_id ORDER BY at, is_dose, entered_at, response_id "
        "ROWS BETWEEN UNBOUNDED PRECEDING "
        "AND CURRENT ROW)) "
        f"SELECT 'summary' AS part, NULL AS doses, {', '.join(summary)} FROM paired s "
        "UNION ALL SELECT 'doses', doses, COUNT(*), SUM(total), SUM(total * total)"
        f"{padding} FROM numbered WHERE is_dose = 0 AND (next_is_dose IS NULL "
        "OR next_is_dose = 1) AND doses <= %s GROUP BY doses"
    )
    return sql, [
        *scores_params, *first_params, *list(wait[1]), *list(wait[1]), code, completed,
        *condition_params, *bin_params, MAX_DOSES_CHARTED,
    ]  # fmt: skip


BIN_WIDTH = {"phq9": 3, "gad7": 3, "pcl5": 10, "madrs": 6}


def change_bins(code: str) -> list[tuple[int, int]]:
    """[low, high) bins of change from -top to +top (the instrument's range)."""
    from kapcare.measures.scoring import get_instrument

    total_range = get_instrument(code).total_range
    top = int(total_range[1]) if total_range else 0
    width = BIN_WIDTH.get(code) or max(1, -(-top // 9))
    return [(low, low + width) for low in range(-top, top + 1, width)]


MAX_DOSES_CHARTED = 12


def _session_means(found: list[tuple[Any, ...]]) -> list[SessionMean]:
    means = []
    for doses, n, total, squares in sorted(found):
        interval = mean_with_ci(int(n), float(total), float(squares))
        assert interval.mean is not None  # noqa: S101 - n >= 1 in a group
        means.append(
            SessionMean(int(doses), int(n), interval.mean, interval.low, interval.high)
        )
    return means


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return percent(self.count, self.of)


@dataclass
class InstrumentOutcome:
    code: str
    name: str
    rules: InstrumentDefinitions
    n: int
    baseline: MeanInterval
    latest: MeanInterval
    change: MeanInterval
    rates: dict[str, Rate | None] = field(default_factory=dict)
    reached_response: int = 0
    median_days_to_response: float | None = None
    change_bins: list[Bin] = field(default_factory=list)
    by_session: list[SessionMean] = field(default_factory=list)

    @property
    def top(self) -> float:
        from kapcare.measures.scoring import get_instrument

        total_range = get_instrument(self.code).total_range
        return float(total_range[1]) if total_range else 1.0

    @property
    def session_chart(self) -> str:
        return mean_by_session_svg(
            self.by_session,
            top=self.top,
            name=self.name,
            chart_id=f"by-session-{self.code}",
        )

    @property
    def change_chart(self) -> str:
        return change_histogram_svg(
            self.change_bins, name=self.name, chart_id=f"change-{self.code}"
        )


def _as_days(value: Any) -> float | None:
    """A duration from the database: microseconds on SQLite, an interval (a
    timedelta) on PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return float(value) / 1e6 / 86400


RATE_NAMES = (
    "response", "remission", "reliable_improvement", "reliable_deterioration",
    "recovery", "reliable_recovery",
)  # fmt: skip


def instrument_outcome(filters: CohortFilters, code: str) -> InstrumentOutcome:
    from kapcare.measures.scoring import get_instrument

    sql, params = instrument_sql(filters, code)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        found = cursor.fetchall()
    [summary] = [r for r in found if r[0] == "summary"]
    row = dict(zip(columns, summary, strict=True))
    by_dose = [r[1:5] for r in found if r[0] == "doses"]
    number = {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}
    n = int(number["n"] or 0)
    rules = definitions_for(code)
    rates: dict[str, Rate | None] = {}
    for name in RATE_NAMES:
        if name not in number:
            rates[name] = None
            continue
        of = n
        if name in ("recovery", "reliable_recovery"):
            of = int(number["case_at_baseline"] or 0)
        elif name == "response" and "response_base" in number:
            of = int(number["response_base"] or 0)
        rates[name] = Rate(int(number[name] or 0), of)
    bins = [
        Bin(low, high, int(number[f"bin_{k}"] or 0))
        for k, (low, high) in enumerate(change_bins(code))
    ]
    return InstrumentOutcome(
        code=code,
        name=get_instrument(code).name,
        change_bins=bins,
        rules=rules,
        n=n,
        baseline=mean_with_ci(n, number["sum_b"] or 0.0, number["sum_b2"] or 0.0),
        latest=mean_with_ci(n, number["sum_l"] or 0.0, number["sum_l2"] or 0.0),
        change=mean_with_ci(n, number["sum_c"] or 0.0, number["sum_c2"] or 0.0),
        rates=rates,
        reached_response=int(number["reached"] or 0),
        median_days_to_response=_as_days(row["median_wait"]),
        by_session=_session_means(by_dose),
    )


# The funnel


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    definition: str


def funnel(filters: CohortFilters) -> list[FunnelStep]:
    start, end = filters.period
    courses = cohort(filters)
    requests = ConsultationRequest.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).count()
    signed = EligibilityAssessment.objects.filter(
        signed_at__gte=start, signed_at__lt=end
    ).filter(_patient_filters(filters))
    assessed = signed.values("patient_id").distinct().count()
    eligible = (
        signed.filter(decision=EligibilityAssessment.Decision.ELIGIBLE)
        .values("patient_id")
        .distinct()
        .count()
    )
    people = courses.aggregate(
        started=Count("patient_id", distinct=True),
        completed_induction=Count(
            "patient_id",
            distinct=True,
            filter=Q(
                phase=TreatmentCourse.Phase.INDUCTION,
                status=TreatmentCourse.Status.COMPLETED,
            ),
        ),
    )
    maintenance = (
        courses.filter(
            Exists(
                TreatmentCourse.objects.filter(
                    patient_id=OuterRef("patient_id"),
                    phase=TreatmentCourse.Phase.MAINTENANCE,
                    first_dose_at__isnull=False,
                    first_dose_at__lt=end,
                )
            )
        )
        .values("patient_id")
        .distinct()
        .count()
    )
    return [
        FunnelStep("Consultation requests", requests, "Requests received in the period (the patient filters do not apply: a request has no chart yet)."),
        FunnelStep("Assessed", assessed, "People whose eligibility assessment was signed in the period."),
        FunnelStep("Eligible", eligible, "Of those, assessments signed with the decision “eligible”."),
        FunnelStep("Started", people["started"], "People whose course (matching the filters) had its first dose in the period."),
        FunnelStep("Completed induction", people["completed_induction"], "Of those, people whose induction course is marked completed."),
        FunnelStep("Maintenance", maintenance, "Of those, people who have had a maintenance dose by the end of the period."),
    ]  # fmt: skip


# Safety


@dataclass(frozen=True)
class EventRate:
    kind: str
    severity: str
    count: int
    per_100_sessions: float | None


@dataclass
class SafetySummary:
    sessions: int
    events: list[EventRate]
    sessions_out_of_range: int
    alerts_opened: int
    alerts_acknowledged: int
    median_minutes_to_acknowledge: float | None

    @property
    def out_of_range_percent(self) -> float | None:
        return percent(self.sessions_out_of_range, self.sessions)


def _out_of_range() -> Q:
    """A vital outside its protocol's limits, as the session flowsheet flags it
    (kapcare/treatment/vitals.py flags_for); the limits come from the outer session
    row, joined once."""
    limits = "course__protocol__"
    return (
        Q(systolic__gt=OuterRef(f"{limits}systolic_max"))
        | Q(diastolic__gt=OuterRef(f"{limits}diastolic_max"))
        | Q(spo2__lt=OuterRef(f"{limits}spo2_min"))
        | Q(heart_rate__lt=OuterRef(f"{limits}heart_rate_min"))
        | Q(heart_rate__gt=OuterRef(f"{limits}heart_rate_max"))
        | Q(respiratory_rate__lt=OuterRef(f"{limits}respiratory_rate_min"))
        | Q(respiratory_rate__gt=OuterRef(f"{limits}respiratory_rate_max"))
    )


def _median_duration(durations: QuerySet[Any], count: int) -> float | None:
    """The median of an ordered duration column, fetched as its middle one or two
    values (a slice in SQL, not the whole column)."""
    if count == 0:
        return None
    low = (count - 1) // 2
    middle = list(durations[low : low + (2 if count % 2 == 0 else 1)])
    seconds = [float(d.total_seconds()) for d in middle]
    return sum(seconds) / len(seconds)


def safety(filters: CohortFilters) -> SafetySummary:
    start, end = filters.period
    courses = cohort(filters)
    sessions = DosingSession.objects.filter(
        course__in=courses.values("pk"),
        dose_started_at__gte=start,
        dose_started_at__lt=end,
    )
    session_count = sessions.count()
    events = [
        EventRate(
            AdverseEvent.Kind(row["kind"]).label,
            AdverseEvent.Severity(row["severity"]).label,
            row["count"],
            percent(row["count"], session_count),
        )
        for row in AdverseEvent.objects.filter(session__in=sessions.values("pk"))
        .values("kind", "severity")
        .annotate(count=Count("pk"))
        .order_by("-count", "kind", "severity")
    ]
    out_of_range = sessions.filter(
        Exists(VitalSign.objects.filter(_out_of_range(), session=OuterRef("pk")))
    ).count()
    alerts = SafetyAlert.objects.filter(
        raised_at__gte=start,
        raised_at__lt=end,
        patient_id__in=courses.values("patient_id"),
    )
    acknowledged = alerts.filter(acknowledged_at__isnull=False)
    totals = alerts.aggregate(
        opened=Count("pk"),
        acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
    )
    waits = (
        acknowledged.annotate(
            wait=ExpressionWrapper(
                F("acknowledged_at") - F("raised_at"), DurationField()
            )
        )
        .order_by("wait")
        .values_list("wait", flat=True)
    )
    median = _median_duration(waits, totals["acknowledged"])
    return SafetySummary(
        sessions=session_count,
        events=events,
        sessions_out_of_range=out_of_range,
        alerts_opened=totals["opened"],
        alerts_acknowledged=totals["acknowledged"],
        median_minutes_to_acknowledge=None if median is None else median / 60,
    )


@dataclass
class Dashboard:
    filters: CohortFilters
    courses: int
    instruments: list[InstrumentOutcome]
    funnel: list[FunnelStep]
    safety: SafetySummary


def dashboard(
    filters: CohortFilters, instruments: Sequence[str] = DASHBOARD_INSTRUMENTS
) -> Dashboard:
    with analytic_queries():
        return Dashboard(
            filters=filters,
            courses=cohort(filters).count(),
            instruments=[instrument_outcome(filters, code) for code in instruments],
            funnel=funnel(filters),
            safety=safety(filters),
        )
