from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
PATIENTS = reverse("patients:patient_list")


def _return_after(client: Client, minutes: int, **headers: Any) -> Any:
    """Open the patient list, then again `minutes` later with nothing in between."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get(PATIENTS).status_code == 200
    with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
        return client.get(PATIENTS, **headers)


def test_staff_are_signed_out_after_15_idle_minutes(
    client_for: ClientFor, nurse: User
) -> None:
    client = client_for(nurse)
    response = _return_after(client, 16)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert b"signed out after 15 minutes" in client.get(response["Location"]).content
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.IDLE_LOGOUT, actor=nurse
    ).exists()


def test_fourteen_idle_minutes_are_fine(client_for: ClientFor, nurse: User) -> None:
    assert _return_after(client_for(nurse), 14).status_code == 200


def test_activity_keeps_the_session_alive(client_for: ClientFor, nurse: User) -> None:
    start = timezone.now()
    client = client_for(nurse)
    for minute in range(0, 60, 10):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            assert client.get(PATIENTS).status_code == 200


def test_the_limit_is_configurable(
    client_for: ClientFor, nurse: User, settings: Settings
) -> None:
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=5)
    assert _return_after(client_for(nurse), 6).status_code == 302


def test_htmx_requests_are_redirected_with_a_header(
    client_for: ClientFor, nurse: User
) -> None:
    response = _return_after(client_for(nurse), 20, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_sessions_end_12_hours_after_sign_in_however_active(
    client_for: ClientFor, nurse: User
) -> None:
    start = timezone.now()
    client = client_for(nurse)
    for minute in range(0, 12 * 60, 10):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            assert client.get(PATIENTS).status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        response = client.get(PATIENTS)
    assert response.status_code == 302
    assert b"12 hours after signing in" in client.get(response["Location"]).content
