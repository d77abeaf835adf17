"""Synthetic demo clinic (Faker; never real people). Idempotent: re-running tops up only."""

import hashlib
import random
from base64 import b32encode
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_events,
)
from kapcare.lib.canada import Province
from kapcare.patients.healthcard import luhn_check_digit
from kapcare.patients.models import Patient
from kapcare.patients.services import bulk_create_patients

DEMO_PASSWORD = "kapcare-demo-2026"  # noqa: S105 - printed for the demo; seed_demo refuses production
DEMO_DOMAIN = "demo.kapcare.test"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    totp_secret: str


DEMO_STAFF = [
    (Role.CLINIC_ADMIN, "admin", "Morgan Tremblay", ""),
    (Role.PHYSICIAN, "physician", "Dr. Priya Raman", "MD, FRCPC"),
    (Role.NURSE, "nurse", "Jordan Okafor", "RN"),
    (Role.THERAPIST, "therapist", "Sam Lefebvre", "MSW, RSW"),
    (Role.FRONT_DESK, "frontdesk", "Alex Nguyen", ""),
]


def demo_totp_key(email: str) -> str:
    """A fixed key per demo account, so the printed secret survives re-seeding."""
    return hashlib.sha256(f"kapcare-demo-totp:{email}".encode()).hexdigest()[:40]


def _ensure_staff(
    role: Role, slug: str, name: str, credentials: str
) -> tuple[User, DemoLogin]:
    email = f"{slug}@{DEMO_DOMAIN}"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name=name, credentials=credentials
        )
    user.groups.add(Group.objects.get(name=role))
    key = demo_totp_key(email)
    TOTPDevice.objects.get_or_create(
        user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
    )
    secret = b32encode(bytes.fromhex(key)).decode()
    return user, DemoLogin(role.label, email, DEMO_PASSWORD, secret)


def synthetic_health_number(rng: random.Random) -> str:
    prefix = str(rng.randint(100_000_000, 999_999_999))
    return prefix + luhn_check_digit(prefix)


def make_patients(
    count: int, *, physicians: list[User], therapists: list[User], seed: int
) -> list[Patient]:
    fake = Faker("en_CA")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    statuses = [s for s, _ in Patient.Status.choices]
    today = date.today()  # noqa: DTZ011 - a birth-date range needs no time zone
    patients = []
    for i in range(count):
        sex = rng.choice(["female", "male", "female", "male", "intersex", "unknown"])
        given = fake.first_name_female() if sex == "female" else fake.first_name_male()
        family = fake.last_name()
        patients.append(
            Patient(
                legal_given_name=given,
                legal_family_name=family,
                preferred_name=fake.first_name() if rng.random() < 0.1 else "",
                pronouns=rng.choice(["", "she/her", "he/him", "they/them"]),
                born_on=today - timedelta(days=rng.randint(19 * 365, 80 * 365)),
                sex_at_birth=sex,
                phone=f"+1416555{rng.randint(100, 199):04d}",
                email=f"{given}.{family}.{seed}-{i}@example.com".lower().replace(
                    " ", ""
                ),
                street_address=fake.street_address(),
                city=rng.choice(
                    [
                        "Toronto",
                        "Ottawa",
                        "Hamilton",
                        "Mississauga",
                        "London",
                        "Kingston",
                    ]
                ),
                province=Province.ON,
                postal_code=rng.choice(
                    ["M5V 2T6", "K1P 5J2", "L8P 4R5", "L5B 3C2", "N6A 3K7", "K7L 3N6"]
                ),
                health_number=synthetic_health_number(rng),
                health_version_code=rng.choice(["", "AB", "XY", "K"]),
                emergency_contact_name=fake.name(),
                emergency_contact_relationship=rng.choice(
                    ["Partner", "Parent", "Sibling", "Friend"]
                ),
                emergency_contact_phone=f"+1647555{rng.randint(100, 199):04d}",
                referring_clinician=f"Dr. {fake.last_name()}, family physician",
                responsible_physician=rng.choice(physicians) if physicians else None,
                responsible_therapist=rng.choice(therapists) if therapists else None,
                status=statuses[i % len(statuses)],
            )
        )
    return patients


def seed_demo(*, patients: int) -> tuple[list[DemoLogin], int]:
    """Create demo staff of every role and top the clinic up to `patients` charts."""
    with transaction.atomic():
        logins = []
        staff: dict[Role, User] = {}
        for role, slug, name, credentials in DEMO_STAFF:
            user, login = _ensure_staff(role, slug, name, credentials)
            staff[role] = user
            logins.append(login)
        existing = Patient.objects.count()
        missing = max(0, patients - existing)
        if missing:
            new = make_patients(
                missing,
                physicians=[staff[Role.PHYSICIAN]],
                therapists=[staff[Role.THERAPIST]],
                seed=existing,
            )
            bulk_create_patients(new, actor_label="seed_demo")
        logins.append(_ensure_portal_patient())
    return logins, missing


def _ensure_portal_patient() -> DemoLogin:
    email = f"patient@{DEMO_DOMAIN}"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name="Demo Patient", kind=User.Kind.PATIENT
        )
        user.groups.add(Group.objects.get(name=Role.PATIENT))
    if not Patient.objects.filter(user=user).exists():
        patient = Patient.objects.filter(user__isnull=True).order_by("mrn").first()
        if patient is not None:
            Patient.objects.filter(pk=patient.pk).update(user=user, email=email)
            User.objects.filter(pk=user.pk).update(full_name=patient.display_name)
            record_events(
                [
                    PendingEvent(
                        action=Action.UPDATE,
                        patient_id=str(patient.pk),
                        information=Information.ACCOUNT,
                        object_type="patient",
                        object_id=str(patient.pk),
                        summary=f"Linked the demo portal account {email}",
                    )
                ],
                context=Context.system("seed_demo"),
            )
    return DemoLogin(Role.PATIENT.label, email, DEMO_PASSWORD, "")
