"""Issue 4's property: a PHQ-9 with item 9 > 0, by any path (emailed link, portal,
clinician or paper entry), with or without a saved draft, retried any number of
times, leaves exactly one open alert and one response."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.lib.tokens import new_link_token
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.conftest import sign_in
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form(answers: list[int | None]) -> dict[str, str]:
    return {f"item_{n}": str(v) for n, v in enumerate(answers, 1) if v is not None}


def _link(patient: Patient) -> tuple[QuestionnaireLink, str]:
    token, hashed = new_link_token()
    link = QuestionnaireLink.objects.create(
        patient=patient, instrument="phq9", token_hash=hashed, sent_to=patient.email,
        expires_at=timezone.now() + dt.timedelta(hours=72),
    )  # fmt: skip
    return link, reverse("measures:link_fill", args=[token])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(["link", "portal", "clinician"]),
    items=st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=8, max_size=8),
    item9=st.integers(1, 3),
    draft_item9=st.one_of(st.none(), st.integers(0, 3)),
    retries=st.integers(1, 3),
)
def test_item_nine_by_any_path_leaves_exactly_one_open_alert(
    nurse: User,
    path: str,
    items: list[int | None],
    item9: int,
    draft_item9: int | None,
    retries: int,
) -> None:
    patient = PatientFactory.create()
    answers = _form([*items, item9])
    if path == "clinician":
        client = sign_in(Client(), nurse)
        url = reverse("measures:response_create", args=[patient.pk, "phq9"])
        data = {**answers, "submission_key": uuid.uuid4().hex, "source": "paper",
                "authored_on": timezone.localdate().isoformat()}  # fmt: skip
    else:
        link, url = _link(patient)
        client = Client()
        if path == "portal":
            user = UserFactory.create(kind=User.Kind.PATIENT, roles=[Role.PATIENT])
            Patient.objects.filter(pk=patient.pk).update(user=user)
            client = sign_in(client, user)
            url = reverse("portal:questionnaire_fill", args=[link.pk])
        if draft_item9 is not None:
            client.post(url, {"item_9": str(draft_item9), "save_draft": "1"})
        data = answers
    for _ in range(retries):
        client.post(url, data)
    assert QuestionnaireResponse.objects.filter(patient=patient).count() == 1
    open_alerts = SafetyAlert.objects.filter(patient=patient, state="open")
    assert open_alerts.count() == 1
    assert open_alerts.get().level == "high"
