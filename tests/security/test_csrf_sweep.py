"""CSRF on every state-changing form, and the security headers on every answer.

Walks every URL pattern in the URLconf (so a new page is covered without touching
this file), signed in as someone allowed to use it, and POSTs without the CSRF
token: the answer must be Django's CSRF refusal (403) before any view runs, or 405
where the view takes no POST. The FHIR API is left out: it takes a bearer token,
never a cookie, so a forged cross-site request carries no credentials (tests/fhir/).
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils.crypto import get_random_string

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.conftest import sign_in
from tests.test_access_matrix import (
    PROTECTED,
    SIGNED_IN,
    TOKEN_ONLY,
    _names,
    _url,
    world,  # noqa: F401 - the fixture, shared with the access matrix
)

pytestmark = pytest.mark.django_db

# Public pages whose URL carries a token or a slug: any value of the right shape
# reaches the CSRF check, which runs before the view looks it up.
SHAPED_ARGS: dict[str, list[str]] = {
    "website:category_posts": ["news"],
    "website:tag_posts": ["news"],
    "website:post_detail": ["matrix"],
    "website:image": ["x.png"],
    "accounts:password_reset_confirm": ["MQ", "set-password"],
    "portal:invitation_accept": ["0" * 40],
    "measures:link_fill": ["0" * 40],
    "scheduling:calendar_ics": ["0" * 40],
    "scheduling:opt_out": ["0" * 40],
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _who(name: str) -> str:
    if name in PROTECTED:
        return sorted(PROTECTED[name][1])[0]
    if name in SIGNED_IN:
        return "physician"
    return "anonymous"


def _address(name: str, objects: dict[str, object]) -> str:
    if name in SHAPED_ARGS:
        return reverse(name, args=SHAPED_ARGS[name])
    return _url(name, objects)


def _check_headers(response: Any, where: str) -> None:
    for header, expected in HEADERS.items():
        assert response.get(header) == expected, f"{header} on {where}"
    assert "default-src 'self'" in response["Content-Security-Policy"], where
    assert "camera=()" in response["Permissions-Policy"], where


def test_every_form_refuses_a_post_without_its_csrf_token(
    world: dict[str, object],  # noqa: F811 - the fixture imported above
    record_property: Callable[[str, object], None],
) -> None:
    names = sorted(set(_names(get_resolver())) - TOKEN_ONLY)
    assert len(names) >= 140  # the sweep really walks the project
    people: dict[str, User | None] = world["people"]  # type: ignore[assignment]
    refused, not_post = [], []
    audit_before = AuditEvent.objects.exclude(action="access_denied").count()
    for name in names:
        persona = _who(name)
        user = people[persona]
        client = Client(enforce_csrf_checks=True)
        # the victim's browser holds the CSRF cookie; the forged form lacks the token
        client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(32)
        if user is not None:
            sign_in(client, user)
        address = _address(name, world)
        response = client.post(address, {"anything": "forged"})
        where = f"POST {address} ({name}) as {persona}"
        _check_headers(response, where)
        if response.status_code == 405:
            not_post.append(name)
            continue
        assert response.status_code == 403, where
        assert b"CSRF" in response.content, where
        refused.append(name)
    assert not_post == ["fhir:metadata"]  # the capability statement: GET only
    record_property("security: URLs swept for CSRF", len(names))
    record_property("security: forged POSTs refused", len(refused))
    # every form the matrix knows as a POST is among the refused
    posts = {n for n, (method, _) in PROTECTED.items() if method == "post"}
    assert posts <= set(refused)
    assert len(refused) >= 60
    # nothing a view would have recorded happened
    assert AuditEvent.objects.exclude(action="access_denied").count() == audit_before


def test_the_same_post_with_its_token_reaches_the_view(
    world: dict[str, object],  # noqa: F811 - the fixture imported above
) -> None:
    """The refusal above is the token's doing: with the token from the page, a
    form is processed (here the outcome dashboard's export)."""
    people: dict[str, User | None] = world["people"]  # type: ignore[assignment]
    physician = people["physician"]
    assert physician is not None
    client = sign_in(Client(enforce_csrf_checks=True), physician)
    page = client.get(reverse("outcomes:dashboard"))
    token = page.context["csrf_token"]
    response = client.post(
        reverse("outcomes:cohort_csv"),
        {
            "starts_on": "2026-01-01",
            "ends_on": "2026-06-30",
            "csrfmiddlewaretoken": str(token),
        },
    )
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "text/csv"
    )


def _token_only_urls() -> dict[str, str]:
    """Each FHIR route, with made-up values of the right shape in its path."""
    urls = {}
    for entry in get_resolver().url_patterns:
        for pattern in getattr(entry, "url_patterns", [entry]):
            name = f"fhir:{pattern.name}"
            if name in TOKEN_ONLY:
                kwargs = {
                    key: "Patient" if key == "resource_type" else "x"
                    for key in pattern.pattern.converters
                }
                urls[name] = reverse(name, kwargs=kwargs)
    return urls


def test_the_fhir_api_refuses_a_session_cookie_without_its_token(
    world: dict[str, object],  # noqa: F811 - the fixture imported above
) -> None:
    """The API is exempt from CSRF because it takes no cookie as a credential: a
    forged cross-site POST with a signed-in clinician's cookie is still refused."""
    people: dict[str, User | None] = world["people"]  # type: ignore[assignment]
    physician = people["physician"]
    assert physician is not None
    client = sign_in(Client(enforce_csrf_checks=True), physician)
    urls = _token_only_urls()
    assert set(urls) == TOKEN_ONLY
    asked_for_a_token = 0
    for name, url in urls.items():
        for method in ("get", "post"):
            response = getattr(client, method)(
                url, **({"data": "{}", "content_type": "application/fhir+json"}
                        if method == "post" else {})
            )  # fmt: skip
            where = (method, name, url, response.status_code)
            assert response.status_code in (401, 405), where
            if response.status_code == 401:
                assert response.json()["resourceType"] == "OperationOutcome", where
                asked_for_a_token += 1
    assert asked_for_a_token >= len(urls), asked_for_a_token  # every route, one way
