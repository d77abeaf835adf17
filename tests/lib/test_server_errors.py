"""A database that is unreachable, locked or full answers a friendly 503 with
Retry-After (drawn without the database); other errors stay 500s."""

import pytest
from django.test import Client
from pytest_django import Settings

from kapcare.website import middleware

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
        from tests.lib.server_error_urls import fail

        fail(None, "refused")  # type: ignore[arg-type]

    monkeypatch.setattr(middleware, "clinic_for", lambda request: down())
    response = failing.get("/fail/bug/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
