"""The clinician's caseload page: alerts first, latest scores, overdue questionnaires."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.lib.tokens import new_link_token
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireLink
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.safety.services import raise_safety_alert
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = reverse("safety:caseload")


def _phq9(patient: Patient, staff: User, totals: list[int]) -> None:
    start = timezone.now() - dt.timedelta(weeks=len(totals))
    for week, total in enumerate(totals):
        answers = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=answers,
            source="paper", submission_key=uuid.uuid4().hex, entered_by=staff,
            authored_at=start + dt.timedelta(weeks=week),
        )  # fmt: skip


def _active(**fields: object) -> Patient:
    return PatientFactory.create(status=Patient.Status.ACTIVE, **fields)


def test_clinicians_start_on_the_caseload_and_front_desk_on_the_patient_list(
    client_for: ClientFor, nurse: User, front_desk: User
) -> None:
    assert client_for(nurse).get(reverse("accounts:home"))["Location"] == URL
    home = client_for(front_desk).get(reverse("accounts:home"))
    assert home["Location"] == reverse("patients:patient_list")
    assert client_for(front_desk).get(URL).status_code == 403


def test_open_alerts_come_first_high_before_moderate(
    client_for: ClientFor, nurse: User
) -> None:
    calm = _active(legal_family_name="Aardvark")
    worried = _active(legal_family_name="Zimmer")
    urgent = _active(legal_family_name="Mbeki")
    raise_safety_alert(
        request=None, patient=worried, level="moderate", trigger="manual", reason="m"
    )
    raise_safety_alert(
        request=None, patient=urgent, level="high", trigger="manual", reason="h"
    )
    page = client_for(nurse).get(URL, {"scope": "all"})
    names = [row.patient.legal_family_name for row in page.context["rows"]]
    assert names == ["Mbeki", "Zimmer", "Aardvark"]
    assert "1 open, 1 high" in page.content.decode()
    assert calm in [row.patient for row in page.context["rows"]]


def test_scores_show_trend_change_and_response(
    client_for: ClientFor, nurse: User
) -> None:
    patient = _active()
    _phq9(patient, nurse, [20, 12, 8])
    page = client_for(nurse).get(URL, {"scope": "all"}).content.decode()
    assert '<span class="score band-1">8</span>' in page
    assert 'aria-label="down from 12"' in page
    assert "(-60% from 20)" in page
    assert '<span class="badge status-active">response</span>' in page


def test_my_patients_is_the_default_for_a_clinician_with_patients(
    client_for: ClientFor, physician: User
) -> None:
    mine = _active(responsible_physician=physician)
    _active()
    page = client_for(physician).get(URL)
    assert [row.patient for row in page.context["rows"]] == [mine]
    everyone = client_for(physician).get(URL, {"scope": "all"})
    assert len(everyone.context["rows"]) == 2


def test_without_own_patients_everyone_is_shown_and_empty_mine_explains(
    client_for: ClientFor, nurse: User
) -> None:
    _active()
    assert len(client_for(nurse).get(URL).context["rows"]) == 1
    empty = client_for(nurse).get(URL, {"scope": "mine"}).content.decode()
    assert "No current patients list you as their physician" in empty


def test_filters_and_sorting(client_for: ClientFor, nurse: User) -> None:
    low, high = _active(legal_family_name="Low"), _active(legal_family_name="High")
    PatientFactory.create(status=Patient.Status.MAINTENANCE, legal_family_name="Kept")
    PatientFactory.create(status=Patient.Status.DISCHARGED, legal_family_name="Gone")
    _phq9(low, nurse, [5])
    _phq9(high, nurse, [22])
    client = client_for(nurse)

    def names(**params: str) -> list[str]:
        page = client.get(URL, {"scope": "all", **params})
        return [row.patient.legal_family_name for row in page.context["rows"]]

    assert names(sort="phq9") == ["High", "Low", "Kept"]
    assert names(phase="maintenance") == ["Kept"]
    assert names(q="high") == ["High"]
    assert names(flag="alerts") == []
    assert "Gone" not in names(sort="bogus")  # a bad sort falls back, no error


def test_a_questionnaire_missed_twice_is_flagged(
    client_for: ClientFor, nurse: User
) -> None:
    patient = _active()
    assignment = QuestionnaireAssignment.objects.create(
        patient=patient, instrument="gad7", repeat="weekly",
        starts_on=timezone.localdate() - dt.timedelta(weeks=3), assigned_by=nurse,
    )  # fmt: skip
    now = timezone.now()

    def link(weeks_ago: int, used: bool = False) -> None:
        QuestionnaireLink.objects.create(
            patient=patient, instrument="gad7", token_hash=new_link_token()[1],
            sent_to=patient.email, assignment=assignment,
            due_on=timezone.localdate() - dt.timedelta(weeks=weeks_ago),
            created_at=now - dt.timedelta(weeks=weeks_ago),
            expires_at=now - dt.timedelta(weeks=weeks_ago) + dt.timedelta(hours=72),
            used_at=now if used else None,
        )  # fmt: skip

    link(3, used=True)
    link(2)
    client = client_for(nurse)
    assert "missed twice" not in client.get(URL).content.decode()
    link(1)
    assert "GAD7 missed twice" in client.get(URL).content.decode()


def test_htmx_refresh_returns_only_the_table_and_every_listing_is_audited(
    client_for: ClientFor, nurse: User
) -> None:
    patients = [_active() for _ in range(3)]
    page = client_for(nurse).get(URL, {"scope": "all"}, headers={"HX-Request": "true"})
    text = page.content.decode()
    assert text.startswith('<div id="caseload-table">')
    assert "<html" not in text
    listed = AuditEvent.objects.filter(
        actor=nurse, summary="Listed in the caseload"
    ).values_list("patient_id", flat=True)
    assert set(listed) == {p.pk for p in patients}


@pytest.mark.parametrize("count", [3, 25])
def test_the_caseload_costs_the_same_queries_however_many_patients_and_scores(
    client_for: ClientFor,
    nurse: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    for n in range(count):
        patient = _active()
        _phq9(patient, nurse, [20, 10, 5][: 1 + n % 3])
        if n % 4 == 0:
            raise_safety_alert(
                request=None,
                patient=patient,
                level="high",
                trigger="manual",
                reason="x",
            )
    client = client_for(nurse)
    client.get(reverse("patients:patient_list"))
    # Expect at most 19: session, user, OTP device, clinic profile, permissions (2),
    # groups, "has own patients", count, the page with alert counts, summaries,
    # scheduled links, audit bulk write (savepoint, head, insert, update, release),
    # the header's alert count.
    with django_assert_max_num_queries(19):
        page = client.get(URL, {"scope": "all"})
    assert len(page.context["rows"]) == count
