"""The pages the benchmark times, signed in as the seeded demo personas."""

import itertools
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count
from django.http.response import HttpResponseBase
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.caseload import ACTIVE_PATIENTS, PHYSICIAN, RESPONSES
from bench.fhir import OBSERVATIONS, next_page, seed_fhir
from bench.intake import FRONT_DESK, REQUESTS
from bench.scheduling import (
    APPOINTMENTS,
    CHAIRS,
    seed_schedule,
    self_booking_query,
)
from bench.site import EXTRA_POSTS, seed_site, uncached
from bench.timing import Send
from bench.treatment import REGISTER_LINES, VITALS, seed_treatment
from kapcare.accounts.models import User
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.demo import DEMO_DOMAIN, DEMO_PASSWORD
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession

NURSE = f"nurse@{DEMO_DOMAIN}"
CLINIC_ADMIN = f"admin@{DEMO_DOMAIN}"
PORTAL_PATIENT = f"patient@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class Page:
    name: str
    send: Send
    expect: int = 200
    # Pages whose cost is dominated by something deliberate (argon2) run fewer times.
    slow: bool = False


def signed_in(email: str) -> Client:
    """A client signed in as `email`; staff have also passed TOTP."""
    user = User.objects.get(email=email)
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def common_family_name() -> str:
    row = (
        Patient.objects.values("legal_family_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "legal_family_name")
        .first()
    )
    if row is None:
        raise RuntimeError("The scratch clinic has no patients")
    return str(row["legal_family_name"])


def middle_patient() -> Patient:
    """A chart from the middle of the MRN range (not the portal patient's)."""
    count = Patient.objects.count()
    return Patient.objects.order_by("mrn")[count // 2]


RESPONSES_ON_CHART = 500


def patient_with_history(responses: int = RESPONSES_ON_CHART) -> Patient:
    """A chart with `responses` PHQ-9 results, stored through the real service."""
    patient = Patient.objects.order_by("mrn")[1]
    nurse = User.objects.get(email=NURSE)
    start = timezone.now() - timedelta(days=responses)
    for n in range(responses):
        answers: list[int | None] = [*((n + i) % 4 for i in range(8)), 0]
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=answers,
            source="paper", submission_key=f"bench-{n}", entered_by=nurse,
            authored_at=start + timedelta(days=n),
        )  # fmt: skip
    return patient


def submit_phq9(client: Client, patient: Patient) -> Send:
    """Paper entry of a PHQ-9 with item 9 endorsed: score, store, alert and audit."""
    keys = itertools.count()
    url = f"/measures/patients/{patient.pk}/new/phq9/"
    answers = {f"item_{n}": "1" for n in range(1, 10)}

    def send() -> HttpResponseBase:
        data = {**answers, "submission_key": f"submit-{next(keys)}", "source": "paper",
                "authored_on": timezone.localdate().isoformat()}  # fmt: skip
        return client.post(url, data)

    return send


def record_vitals(client: Client, session: DosingSession) -> Send:
    url = f"{session.get_absolute_url()}vitals/"
    data = {
        "vitals-taken_time": timezone.localtime().strftime("%H:%M"),
        "vitals-systolic": "126", "vitals-diastolic": "80", "vitals-heart_rate": "74",
        "vitals-spo2": "97", "vitals-respiratory_rate": "14",
    }  # fmt: skip

    def send() -> HttpResponseBase:
        return client.post(url, data, headers={"HX-Request": "true"})

    return send


def login_post() -> Send:
    """A real sign-in: a fresh client each time, with the right password (no axes lockout)."""
    data = {"username": NURSE, "password": DEMO_PASSWORD}
    return lambda: Client().post("/accounts/login/", data)


def healthz_page() -> Page:
    anonymous = Client()
    return Page("healthz (minimal view)", lambda: anonymous.get("/healthz"))


def pages() -> list[Page]:
    anonymous, nurse = Client(), signed_in(NURSE)
    admin, patient = signed_in(CLINIC_ADMIN), signed_in(PORTAL_PATIENT)
    chart = middle_patient().get_absolute_url()
    history = patient_with_history()
    search = {"q": common_family_name()}
    physician = signed_in(PHYSICIAN)
    front_desk = signed_in(FRONT_DESK)
    dosing, recording = seed_treatment(history)
    month = {"month": timezone.localdate().strftime("%Y-%m")}
    day = {"day": seed_schedule().isoformat()}
    booking = self_booking_query()
    article = seed_site()
    visitor = Client()
    fhir_client, fhir_search = seed_fhir()
    return [
        Page("login page (GET)", lambda: anonymous.get("/accounts/login/")),
        Page("login POST (argon2)", login_post(), expect=302, slow=True),
        Page("patient list", lambda: nurse.get("/patients/")),
        Page(
            f"patient search ?q={search['q']}", lambda: nurse.get("/patients/", search)
        ),
        Page("patient list ?page=50", lambda: nurse.get("/patients/", {"page": 50})),
        Page("patient chart", lambda: nurse.get(chart)),
        Page("chart history", lambda: nurse.get(f"{chart}history/")),
        Page("audit log (clinic admin)", lambda: admin.get("/audit/")),
        Page("portal home (patient)", lambda: patient.get("/portal/")),
        Page(
            f"measures tab ({RESPONSES_ON_CHART} responses)",
            lambda: nurse.get(f"/measures/patients/{history.pk}/"),
        ),
        Page(
            f"caseload, all ({ACTIVE_PATIENTS:,} active, {RESPONSES:,} responses)",
            lambda: nurse.get("/safety/caseload/", {"scope": "all"}),
        ),
        Page(
            "caseload, all, sorted by PHQ-9",
            lambda: nurse.get("/safety/caseload/", {"scope": "all", "sort": "phq9"}),
        ),
        Page(
            "caseload, my patients (physician)",
            lambda: physician.get("/safety/caseload/"),
        ),
        Page(
            "caseload ?page=40",
            lambda: nurse.get("/safety/caseload/", {"scope": "all", "page": "40"}),
        ),
        Page(
            f"intake board ({REQUESTS:,} requests, open)",
            lambda: front_desk.get("/intake/"),
        ),
        Page(
            "intake board, all, ?page=100",
            lambda: front_desk.get("/intake/", {"status": "all", "page": "100"}),
        ),
        Page(
            "intake board search ?q=req4242",
            lambda: front_desk.get("/intake/", {"status": "all", "q": "req4242"}),
        ),
        Page(
            f"dosing session page ({VITALS} vitals)",
            lambda: nurse.get(dosing.get_absolute_url()),
        ),
        Page(
            "record vitals (htmx POST, session redrawn)",
            record_vitals(nurse, recording),
        ),
        Page(
            "chart timeline (all)",
            lambda: nurse.get(f"/patients/{history.pk}/timeline/", {"months": "all"}),
        ),
        Page(
            f"register report ({REGISTER_LINES:,} lines this month)",
            lambda: nurse.get("/register/report/", month),
        ),
        Page(
            f"schedule day view ({CHAIRS} chairs, {APPOINTMENTS} appointments)",
            lambda: front_desk.get("/schedule/", day),
        ),
        Page(
            "schedule week view (same week)",
            lambda: front_desk.get("/schedule/week/", day),
        ),
        Page(
            "portal self-booking, free dosing times (that week)",
            lambda: patient.get("/portal/appointments/book/", booking),
        ),
        Page(
            f"public home, cached ({EXTRA_POSTS + 6} articles)",
            lambda: visitor.get("/"),
        ),
        Page("public home, uncached", uncached(visitor, "/")),
        Page("article page, cached", lambda: visitor.get(article)),
        Page("article page, uncached", uncached(visitor, article)),
        Page("article list ?page=3, uncached", uncached(visitor, "/blog/?page=3")),
        Page(
            f"FHIR Observation search, {OBSERVATIONS}+ for the patient (_count=50)",
            lambda: fhir_client.get(fhir_search),
        ),
        Page(
            "FHIR Observation search, page 2 (cursor)",
            next_page(fhir_client, fhir_search),
        ),
        Page(
            "submit PHQ-9 (item 9 > 0)",
            submit_phq9(nurse, middle_patient()),
            expect=302,
        ),
    ]
