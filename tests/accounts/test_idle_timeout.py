from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
PATIENTS = reverse("patients:patient_list")


def test_staff_are_signed_out_after_15_idle_minutes(
    client_for: ClientFor, nurse: User
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = client_for(nurse)
        assert client.get(PATIENTS).status_code == 200
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = client.get(PATIENTS)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        follow = client.get(response["Location"])
    assert b"signed out after 15 minutes" in follow.content
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.IDLE_LOGOUT, actor=nurse
    ).exists()


def test_activity_keeps_the_session_alive(client_for: ClientFor, nurse: User) -> None:
    start = timezone.now()
    client = None
    for minute in range(0, 60, 10):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            client = client or client_for(nurse)
            assert client.get(PATIENTS).status_code == 200


def test_the_limit_is_configurable(
    client_for: ClientFor, nurse: User, settings: Settings
) -> None:
    settings.STAFF_IDLE_TIMEOUT = timedelta(minutes=5)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = client_for(nurse)
        client.get(PATIENTS)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get(PATIENTS).status_code == 302


def test_htmx_requests_are_redirected_with_a_header(
    client_for: ClientFor, nurse: User
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = client_for(nurse)
        client.get(PATIENTS)
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        response = client.get(PATIENTS, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))
