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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DateField,
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


def scored_cohort(filters: CohortFilters, code: str) -> QuerySet[Any, dict[str, Any]]:
    """The cohort with each course's baseline and latest score on one instrument."""
    responses = QuestionnaireResponse.objects.filter(
        patient_id=OuterRef("patient_id"),
        instrument=code,
        status=QuestionnaireResponse.Status.COMPLETED,
        total__isnull=False,
    )
    baseline = (
        responses.filter(
            authored_at__lte=OuterRef("first_dose_at"),
            authored_at__gte=OuterRef("first_dose_at")
            - timedelta(days=BASELINE_WINDOW_DAYS),
        )
        .order_by("-authored_at", "-created_at", "-pk")
        .values("total")[:1]
    )
    _, period_end = filters.period
    after = responses.filter(
        authored_at__gt=OuterRef("first_dose_at"),
        authored_at__lt=period_end,  # lets the (patient, instrument, date) index bound it
        authored_at__date__lte=OuterRef("latest_by"),
    ).order_by("-authored_at", "-created_at", "-pk")
    return (
        cohort(filters)
        .annotate(
            latest_by=Least(
                Coalesce(F("ended_on"), Value(filters.ends_on)),
                Value(filters.ends_on),
                output_field=DateField(),
            ),
            drug=F("protocol__drug"),
            baseline_total=Subquery(baseline),
            latest_total=Subquery(after.values("total")[:1]),
            latest_at=Subquery(after.values("authored_at")[:1]),
        )
        .values(
            "pk", "patient_id", "first_dose_at", "drug", "baseline_total",
            "latest_total", "latest_at",
        )
    )  # fmt: skip


def _conditions(
    rules: InstrumentDefinitions,
) -> tuple[dict[str, str], list[Any]]:
    """SQL conditions over the scored row s (b = baseline, l = latest) for each
    cited definition the instrument has, with their parameters in order."""
    conditions: dict[str, str] = {}
    params: list[Any] = []
    if rules.response_percent:
        conditions["response"] = "s.b > 0 AND 2 * s.l <= s.b"
        conditions["response_base"] = "s.b > 0"
    elif rules.response_points is not None:
        conditions["response"] = "s.b - s.l >= %s"
        params.append(rules.response_points)
    if rules.esketamine_remission_limit is not None:
        conditions["remission"] = "s.l <= CASE WHEN s.drug = %s THEN %s ELSE %s END"
        params += [
            Drug.ESKETAMINE,
            rules.esketamine_remission_limit,
            rules.remission_limit,
        ]
    elif rules.remission_limit is not None:
        conditions["remission"] = "s.l < %s" if rules.remission_strict else "s.l <= %s"
        params.append(rules.remission_limit)
    if rules.reliable_change is not None:
        conditions["reliable_improvement"] = "s.b - s.l >= %s"
        conditions["reliable_deterioration"] = "s.l - s.b >= %s"
        params += [rules.reliable_change, rules.reliable_change]
    if rules.caseness_from is not None:
        # Talking Therapies count only finished courses: >= 2 attended treatment
        # appointments (clinical rules §7), here doses given by the latest score.
        finished = f"s.attended >= {RECOVERY_MIN_DOSES}"
        conditions["case_at_baseline"] = f"s.b >= %s AND {finished}"
        conditions["recovery"] = f"s.b >= %s AND {finished} AND s.l < %s"
        params += [rules.caseness_from] * 3
        if rules.reliable_change is not None:
            conditions["reliable_recovery"] = (
                f"s.b >= %s AND {finished} AND s.l < %s AND s.b - s.l >= %s"
            )
            params += [rules.caseness_from, rules.caseness_from, rules.reliable_change]
    return conditions, params


def instrument_sql(filters: CohortFilters, code: str) -> tuple[str, list[Any]]:
    """One statement: the scored cohort materialised once, then its sums, the
    cited counts, and the median time to first response by window functions."""
    rules = definitions_for(code)
    inner, inner_params = scored_cohort(filters, code).query.sql_with_params()
    conditions, condition_params = _conditions(rules)
    counts = "".join(
        f", SUM(CASE WHEN {sql} THEN 1 ELSE 0 END) AS {name}"
        for name, sql in conditions.items()
    )
    edges = change_bins(code)
    counts += "".join(
        f", SUM(CASE WHEN s.l - s.b >= %s AND s.l - s.b < %s THEN 1 ELSE 0 END) AS bin_{k}"
        for k in range(len(edges))
    )
    bin_params = [edge for pair in edges for edge in pair]
    table = QuestionnaireResponse._meta.db_table
    quote = connection.ops.quote_name
    # a NULL of the timestamp type (PostgreSQL will not subtract an untyped NULL)
    first_response_sql, first_params = (
        "(CASE WHEN 1 = 0 THEN s.first_dose_at END)",
        list[Any](),
    )
    if "response" in conditions:
        # the response condition again, on each later score r instead of s.l
        on_r = conditions["response"].replace("s.l", "r.total")
        first_response_sql = (
            f"(SELECT MIN(r.authored_at) FROM {quote(table)} r WHERE r.patient_id = s.patient_id "  # noqa: S608 - our names; values are parameters
            f"AND r.instrument = %s AND r.status = %s AND r.total IS NOT NULL "
            f"AND r.authored_at > s.first_dose_at AND r.authored_at <= s.latest_at AND {on_r})"
        )
        first_params = [code, QuestionnaireResponse.Status.COMPLETED]
        if rules.response_points is not None:
            first_params.append(rules.response_points)
    wait = connection.ops.subtract_temporals(
        "DateTimeField", ("f.first_response_at", []), ("f.first_dose_at", [])
    )
    sql = (
        f"WITH scored AS MATERIALIZED ({inner}), "  # noqa: S608 - our names; values are parameters
        "paired AS MATERIALIZED (SELECT patient_id, first_dose_at, drug, latest_at, "
        "baseline_total AS b, latest_total AS l, "
        f"(SELECT COUNT(*) FROM {quote(DosingSession._meta.db_table)} d "
        "WHERE d.course_id = scored.pk AND d.dose_started_at IS NOT NULL "
        "AND d.dose_started_at <= scored.latest_at) AS attended FROM scored "
        "WHERE baseline_total IS NOT NULL AND latest_total IS NOT NULL), "
        f"firsts AS MATERIALIZED (SELECT s.first_dose_at, {first_response_sql} AS first_response_at "
        "FROM paired s), "
        f"waits AS (SELECT {wait[0]} AS wait, ROW_NUMBER() OVER (ORDER BY {wait[0]}) AS n, "
        "COUNT(*) OVER () AS reached FROM firsts f WHERE f.first_response_at IS NOT NULL) "
        "SELECT COUNT(*) AS n, SUM(s.b) AS sum_b, SUM(s.b * s.b) AS sum_b2, "
        "SUM(s.l) AS sum_l, SUM(s.l * s.l) AS sum_l2, SUM(s.l - s.b) AS sum_c, "
        f"SUM((s.l - s.b) * (s.l - s.b)) AS sum_c2{counts}, "
        "(SELECT COUNT(*) FROM waits) AS reached, "
        "(SELECT AVG(wait) FROM waits WHERE n IN ((reached + 1) / 2, (reached + 2) / 2)) "
        "AS median_wait FROM paired s"
    )
    return sql, [
        *inner_params, *first_params, *list(wait[1]), *list(wait[1]),
        *condition_params, *bin_params,
    ]  # fmt: skip


BIN_WIDTH = {"phq9": 3, "gad7": 3, "pcl5": 10, "madrs": 6}


def change_bins(code: str) -> list[tuple[int, int]]:
    """[low, high) bins of change from -top to +top (the instrument's range)."""
    from kapcare.measures.scoring import get_instrument

    total_range = get_instrument(code).total_range
    top = int(total_range[1]) if total_range else 0
    width = BIN_WIDTH.get(code) or max(1, -(-top // 9))
    return [(low, low + width) for low in range(-top, top + 1, width)]


def session_means_sql(filters: CohortFilters, code: str) -> tuple[str, list[Any]]:
    """Mean score by number of doses given before it (0 = baseline), over the
    courses paired on this instrument: each course's last score in each interval
    between doses, from the baseline window to its latest score."""
    inner, inner_params = (
        scored_cohort(filters, code)
        .annotate(
            baseline_from=ExpressionWrapper(
                F("first_dose_at") - timedelta(days=BASELINE_WINDOW_DAYS),
                output_field=DateTimeField(),
            )
        )
        .values("pk", "patient_id", "first_dose_at", "baseline_total", "latest_total",
                "latest_at", "baseline_from")
        .query.sql_with_params()
    )  # fmt: skip
    quote = connection.ops.quote_name
    responses = quote(QuestionnaireResponse._meta.db_table)
    sessions = quote(DosingSession._meta.db_table)
    sql = (
        f"WITH scored AS MATERIALIZED ({inner}), "  # noqa: S608 - our names; values are parameters
        "paired AS MATERIALIZED (SELECT pk, patient_id, baseline_from, latest_at FROM scored "
        "WHERE baseline_total IS NOT NULL AND latest_total IS NOT NULL), "
        # scores and doses of each course in one time line; a running count of the
        # doses before each score (a dose at the same instant comes after it)
        "events AS (SELECT p.pk AS course_id, r.authored_at AS at, 0 AS is_dose, "
        f"r.total AS total FROM paired p JOIN {responses} r ON r.patient_id = p.patient_id "
        "AND r.instrument = %s AND r.status = %s AND r.total IS NOT NULL "
        "AND r.authored_at >= p.baseline_from AND r.authored_at <= p.latest_at "
        "UNION ALL SELECT p.pk, d.dose_started_at, 1, NULL FROM paired p "
        f"JOIN {sessions} d ON d.course_id = p.pk AND d.dose_started_at IS NOT NULL "
        "AND d.dose_started_at <= p.latest_at), "
        "numbered AS (SELECT course_id, at AS authored_at, is_dose, total, SUM(is_dose) OVER "
        "(PARTITION BY course_id ORDER BY at, is_dose ROWS BETWEEN UNBOUNDED PRECEDING "
        "AND CURRENT ROW) AS doses FROM events), "
        "last_in_interval AS (SELECT doses, total, ROW_NUMBER() OVER "
        "(PARTITION BY course_id, doses ORDER BY authored_at DESC) AS rn FROM numbered "
        "WHERE is_dose = 0) "
        "SELECT doses, COUNT(*), SUM(total), SUM(total * total) FROM last_in_interval "
        "WHERE rn = 1 AND doses <= %s GROUP BY doses ORDER BY doses"
    )
    return sql, [
        *inner_params,
        code,
        QuestionnaireResponse.Status.COMPLETED,
        MAX_DOSES_CHARTED,
    ]


MAX_DOSES_CHARTED = 12


def session_means(filters: CohortFilters, code: str) -> list[SessionMean]:
    sql, params = session_means_sql(filters, code)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    means = []
    for doses, n, total, squares in found:
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
        row = dict(zip(columns, cursor.fetchone(), strict=True))
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
    (kapcare/treatment/vitals.py flags_for)."""
    limits = "session__course__protocol__"
    return (
        Q(systolic__gt=F(f"{limits}systolic_max"))
        | Q(diastolic__gt=F(f"{limits}diastolic_max"))
        | Q(spo2__lt=F(f"{limits}spo2_min"))
        | Q(heart_rate__lt=F(f"{limits}heart_rate_min"))
        | Q(heart_rate__gt=F(f"{limits}heart_rate_max"))
        | Q(respiratory_rate__lt=F(f"{limits}respiratory_rate_min"))
        | Q(respiratory_rate__gt=F(f"{limits}respiratory_rate_max"))
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


def _with_sessions(
    outcome: InstrumentOutcome, filters: CohortFilters
) -> InstrumentOutcome:
    """The mean-by-session series, only for an instrument with paired courses."""
    if outcome.n:
        outcome.by_session = session_means(filters, outcome.code)
    return outcome


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
    return Dashboard(
        filters=filters,
        courses=cohort(filters).count(),
        instruments=[
            _with_sessions(instrument_outcome(filters, code), filters)
            for code in instruments
        ],
        funnel=funnel(filters),
        safety=safety(filters),
    )
