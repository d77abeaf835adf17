"""A database that is unreachable, locked or full answers a friendly 503 with
Retry-After (drawn without the database); other errors stay 500s."""

import pytest
from django.test import Client
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.lib.errors import server_error
from kapcare.website import middleware
from tests.lib.server_error_urls import raise_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(settings: Settings) -> Client:
    settings.ROOT_URLCONF = "tests.lib.server_error_urls"
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("locked", 503, "very busy"),
        ("full", 503, "run out of storage"),
        ("refused", 503, "cannot reach its database"),
        ("shutdown", 503, "cannot reach its database"),
        ("pg-full", 503, "run out of storage"),
        ("deadlock", 503, "very busy"),
        ("pg-sql", 500, "Something went wrong"),
        ("sql", 500, "Something went wrong"),
        ("bug", 500, "Something went wrong"),
    ],
)
def test_database_trouble_is_a_503_and_a_bug_a_500(
    failing: Client, kind: str, status: int, text: str
) -> None:
    response = failing.get(f"/fail/{kind}/")
    assert response.status_code == status
    body = response.content.decode()
    assert text in body and "9-8-8" in body
    if status == 503:
        assert response["Retry-After"] == "30"
        assert "not</strong> saved" in body
    else:
        assert "Retry-After" not in response


def test_a_database_down_before_the_view_is_a_503_too(
    failing: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first query of a request (the clinic's time zone, in middleware) fails
    as it does when PostgreSQL is down; the 503 page needs no database."""

    def down() -> None:
        raise_postgresql("refused")

    monkeypatch.setattr(middleware, "clinic_for", lambda request: down())
    response = failing.get("/fail/bug/")
    assert response.status_code == 503 and response["Retry-After"] == "30"


def test_the_project_uses_this_handler() -> None:
    from django.urls import get_resolver

    assert get_resolver().resolve_error_handler(500) is server_error


def test_the_fhir_api_answers_503_when_the_database_is_down(
    clinic_admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kapcare.fhir import api
    from tests.fhir.test_api import api as fhir_client
    from tests.fhir.test_api import token_for

    _, token = token_for(clinic_admin)

    def down(*args: object, **kwargs: object) -> None:
        raise_postgresql("shutdown")

    monkeypatch.setattr(api.PatientHandler, "search", down)
    response = fhir_client(token).get("/fhir/Patient")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    issue = response.json()["issue"][0]
    assert issue["code"] == "transient" and "nothing was saved" in issue["diagnostics"]
