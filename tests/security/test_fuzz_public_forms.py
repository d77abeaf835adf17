"""Property tests (hypothesis): the public forms, given arbitrary input in every
field, never answer 500 and never store a half record; a stored consultation
request is whole (every required field), and only a success stores one."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import Settings

from kapcare.intake.models import ConsultationRequest
from kapcare.measures.models import QuestionnaireResponse
from tests.factories import PatientFactory
from tests.intake.test_consultation_requests import _data
from tests.measures.test_drafts_and_portal import _link

pytestmark = pytest.mark.django_db
Recorder = Callable[[str, object], None]
FUZZ = settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
ANSWERED = {200, 302, 400, 403, 404, 405, 410, 429}
TEXT = st.text(max_size=200)
# the value a field gets: anything, or something close to what it expects
FIELD = st.one_of(
    TEXT, st.just(""), st.sampled_from(["on", "email", "phone", "any", "doctor", "0", "3"]),
    st.dates().map(str), st.emails(), st.integers().map(str),
)  # fmt: skip
REQUEST_FIELDS = [
    "given_name", "family_name", "born_on", "email", "phone", "preferred_contact",
    "preferred_time", "heard_from", "message", "consent", "website",
]  # fmt: skip


@pytest.fixture
def open_intake(settings: Settings) -> None:
    settings.INTAKE_REQUESTS_PER_HOUR = 100_000


@FUZZ
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(REQUEST_FIELDS, FIELD)))
def test_the_consultation_request_form(
    open_intake: None, values: dict[str, str], record_property: Recorder
) -> None:
    record_property("security: fuzzed public form posts", 1)
    key = uuid.uuid4().hex
    before = ConsultationRequest.objects.count()
    body = _data(submission_key=key)
    body.update(values)
    response = Client().post(reverse("intake:request_create"), body)
    assert response.status_code in ANSWERED, response.status_code
    stored = ConsultationRequest.objects.filter(submission_key=key)
    if response.status_code == 302:
        request = stored.get()
        assert request.given_name and request.family_name and request.preferred_contact
        assert request.consent_wording, "stored without the consent wording"
    else:
        assert not stored.exists()
    assert ConsultationRequest.objects.count() == before + (response.status_code == 302)


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from([f"item_{n}" for n in range(12)]) | TEXT, FIELD, max_size=12
    )
)
def test_the_emailed_questionnaire_form(
    values: dict[str, str], record_property: Recorder
) -> None:
    record_property("security: fuzzed public form posts", 1)
    patient = PatientFactory.create()
    link, url = _link(patient)
    client = Client()
    response = client.post(url, values)
    assert response.status_code in ANSWERED, response.status_code
    link.refresh_from_db()
    saved = QuestionnaireResponse.objects.filter(patient=patient)
    if "save_draft" in values:
        assert not saved.exists()
    elif link.used_at is None:
        assert not saved.exists()  # refused: nothing stored, the link still open
    else:
        stored = saved.get()  # one response, the one the link points to
        assert link.response_id == stored.pk
        # a complete PHQ-9 is always scored; a partial one is kept unscored, as sent
        assert stored.total is not None or not stored.is_complete


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {}, optional={"username": FIELD, "password": FIELD, "next": FIELD}
    )
)
def test_the_sign_in_form(values: dict[str, Any], record_property: Recorder) -> None:
    record_property("security: fuzzed public form posts", 1)
    response = Client().post(reverse("accounts:login"), values)
    assert response.status_code in ANSWERED, response.status_code
    if response.status_code == 302:  # never signs anyone in from nonsense
        assert "_auth_user_id" not in Client().session


@FUZZ
@given(query=FIELD, page=FIELD)
def test_the_public_search_and_pages(query: str, page: str) -> None:
    for url in (reverse("website:post_list"), reverse("intake:self_check")):
        response = Client().get(url, {"q": query, "page": page})
        assert response.status_code in ANSWERED, (url, response.status_code)
