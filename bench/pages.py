"""The pages the benchmark times, signed in as the seeded demo personas."""

from dataclasses import dataclass

from django.db.models import Count
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.timing import Send
from kapcare.accounts.models import User
from kapcare.patients.demo import DEMO_DOMAIN, DEMO_PASSWORD
from kapcare.patients.models import Patient

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
    search = {"q": common_family_name()}
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
    ]
