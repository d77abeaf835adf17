from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor, make_staff
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
Action = AuditEvent.Action


def _login(client: Client, email: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_a_good_password_signs_in_and_is_audited(client: Client, nurse: User) -> None:
    response = _login(client, nurse.email.upper(), PASSWORD)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.LOGIN)
    assert (event.actor_id, event.ip_address) == (nurse.pk, "10.0.0.1")


def test_a_wrong_password_is_refused_and_audited(client: Client, nurse: User) -> None:
    response = _login(client, nurse.email, "wrong password")
    assert response.status_code == 200
    assert b"do not match" in response.content
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.detail == {"email": nurse.email}


def test_five_failures_lock_the_account_even_with_the_right_password(
    client: Client, nurse: User
) -> None:
    for _ in range(5):
        _login(client, nurse.email, "wrong password")
    response = _login(client, nurse.email, PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert b"15 minutes" in response.content
    assert AuditEvent.objects.filter(action=Action.LOCKED_OUT).exists()


def test_the_lock_is_per_username_and_ip(
    client: Client, nurse: User, physician: User
) -> None:
    for _ in range(5):
        _login(client, nurse.email, "wrong password", ip="10.0.0.1")
    assert _login(Client(), physician.email, PASSWORD, ip="10.0.0.1").status_code == 302
    assert _login(Client(), nurse.email, PASSWORD, ip="10.9.9.9").status_code == 302


def test_the_lock_ends_after_the_cool_off(client: Client, nurse: User) -> None:
    for _ in range(5):
        _login(client, nurse.email, "wrong password")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(Client(), nurse.email, PASSWORD).status_code == 302


def test_sign_in_gives_a_new_session_key(client: Client, nurse: User) -> None:
    client.get(LOGIN)
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    _login(client, nurse.email, PASSWORD)
    assert client.session.session_key != before


def test_sign_out_ends_the_session_and_is_audited(
    client_for: ClientFor, nurse: User
) -> None:
    client = client_for(nurse)
    cookie = client.cookies["sessionid"].value
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor=nurse).exists()
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(reverse("patients:patient_list")).status_code == 302


def test_sign_out_needs_post(client_for: ClientFor, nurse: User) -> None:
    assert client_for(nurse).get(reverse("accounts:logout")).status_code == 405


def test_an_inactive_user_cannot_sign_in(client: Client) -> None:
    user = make_staff(Role.NURSE)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _login(client, user.email, PASSWORD).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_never_leaves_the_site(client: Client, target: str) -> None:
    user = make_staff(Role.NURSE)
    response = client.post(
        LOGIN, {"username": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
