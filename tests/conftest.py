"""Personas (healthchecks' Alice/Bob style) and test-only settings."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.lib import sms
from kapcare.patients.models import Patient
from tests.factories import PatientFactory, TOTPDeviceFactory, UserFactory

ClientFor = Callable[..., Client]


@pytest.fixture(autouse=True)
def _test_settings(settings: Settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "kapcare.lib.sms.LocmemBackend"
    sms.outbox.clear()
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


def make_staff(*roles: Role, enrolled: bool = True) -> User:
    user = UserFactory.create(roles=list(roles))
    if enrolled:
        TOTPDeviceFactory.create(user=user)
    return user


def sign_in(client: Client, user: User, *, verified: bool = True) -> Client:
    """Sign in as `user`; staff also pass TOTP unless verified=False."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if verified and device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def clinic_admin(db: None) -> User:
    """Manages staff, clinic details and reads the audit log; no patient data."""
    return make_staff(Role.CLINIC_ADMIN)


@pytest.fixture
def physician(db: None) -> User:
    """Clinical: sees every patient's chart and clinical record."""
    return make_staff(Role.PHYSICIAN)


@pytest.fixture
def nurse(db: None) -> User:
    """Clinical: sees every patient's chart and clinical record."""
    return make_staff(Role.NURSE)


@pytest.fixture
def therapist(db: None) -> User:
    """Clinical: sees every patient's chart and clinical record."""
    return make_staff(Role.THERAPIST)


@pytest.fixture
def front_desk(db: None) -> User:
    """Demographics and scheduling only; never clinical data."""
    return make_staff(Role.FRONT_DESK)


@pytest.fixture
def unenrolled_nurse(db: None) -> User:
    """A nurse who has not set up TOTP yet: reaches no patient data."""
    return make_staff(Role.NURSE, enrolled=False)


@pytest.fixture
def patient_a(db: None) -> Patient:
    return PatientFactory.create()


@pytest.fixture
def patient_b(db: None) -> Patient:
    return PatientFactory.create()


@pytest.fixture
def patient_user(patient_a: Patient) -> User:
    """Patient A's portal account: sees only patient A's record, through the portal."""
    user = UserFactory.create(
        kind=User.Kind.PATIENT, email=patient_a.email, roles=[Role.PATIENT]
    )
    Patient.objects.filter(pk=patient_a.pk).update(user=user)
    patient_a.refresh_from_db()
    return user


@pytest.fixture
def client_for() -> ClientFor:
    """A fresh signed-in client per user (the default `client` is left anonymous)."""

    def make(user: User, *, verified: bool = True) -> Client:
        return sign_in(Client(), user, verified=verified)

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts the security and reliability tests record (record_property with a
    "security: " name), summed over the run, also under xdist."""
    counts: dict[str, int] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", "call") != "call":
                continue
            for name, value in getattr(report, "user_properties", []):
                if str(name).startswith("security: "):
                    counts[name] = counts.get(name, 0) + int(value)
    if counts:
        terminalreporter.write_sep("-", "security and reliability counts")
        for name, value in sorted(counts.items()):
            terminalreporter.write_line(f"{name.removeprefix('security: ')}: {value:,}")


def seen_in(page: Any, name: str = "seen") -> str:
    """The edit form's version (its hidden `seen`, the fingerprint of what it
    showed; kapcare.lib.concurrency) on a page, a response or its bytes."""
    if isinstance(page, bytes):
        text = page.decode()
    else:
        text = page if isinstance(page, str) else page.content.decode()
    found = re.findall(rf'name="{re.escape(name)}" value="([0-9a-f]*)"', text)
    assert len(found) == 1, f"expected one hidden {name!r} input, found {found}"
    return str(found[0])
