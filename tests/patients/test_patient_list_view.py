from collections.abc import Callable

import pytest
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = reverse("patients:patient_list")


def test_it_lists_patients_for_front_desk(
    client_for: ClientFor, front_desk: User, patient_a: Patient
) -> None:
    response = client_for(front_desk).get(URL)
    assert response.status_code == 200
    assert patient_a.mrn.encode() in response.content
    assert patient_a.health_card is not None
    assert patient_a.health_card.formatted.encode() in response.content


def test_it_records_who_saw_which_patients(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client_for(nurse).get(URL, {"q": patient_a.legal_family_name})
    event = AuditEvent.objects.get(patient=patient_a)
    assert event.action == AuditEvent.Action.SEARCH
    assert event.information == AuditEvent.Information.PATIENT_LIST
    assert event.actor_id == nurse.pk
    assert event.ip_address == "127.0.0.1"


def test_each_listed_patient_gets_their_own_event(
    client_for: ClientFor, nurse: User
) -> None:
    PatientFactory.create_batch(30)
    response = client_for(nurse).get(URL)
    shown = {p.pk for p in response.context["page"]}
    listed = set(
        AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).values_list(
            "patient_id", flat=True
        )
    )
    assert len(shown) == 25
    assert listed == shown


@pytest.mark.parametrize(
    "query",
    [
        lambda p: p.legal_family_name,
        lambda p: f"{p.legal_given_name.lower()} {p.legal_family_name.upper()}",
        lambda p: p.mrn,
        lambda p: p.mrn.lower(),
        lambda p: p.born_on.isoformat(),
        lambda p: p.health_number,
        lambda p: f"{p.health_number[:4]}-{p.health_number[4:7]}",
    ],
    ids=[
        "family",
        "full-name-any-case",
        "mrn",
        "mrn-lower",
        "birth-date",
        "health-number",
        "health-prefix",
    ],
)
def test_search_finds_the_patient(
    client_for: ClientFor, nurse: User, query: Callable[[Patient], str]
) -> None:
    wanted = PatientFactory.create(
        legal_given_name="Zephyrine", legal_family_name="Quillfeather"
    )
    PatientFactory.create_batch(3)
    response = client_for(nurse).get(URL, {"q": query(wanted)})
    page = response.context["page"]
    assert wanted in list(page)


def test_search_without_a_match_says_so(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response = client_for(nurse).get(URL, {"q": "nobody-by-this-name"})
    assert b"No patient matches" in response.content


def test_a_health_number_that_python_reads_as_a_date_is_searched_as_a_number(
    client_for: ClientFor, nurse: User
) -> None:
    wanted = PatientFactory.create(health_number="2564111728")
    response = client_for(nurse).get(URL, {"q": "2564111728"})
    assert list(response.context["page"]) == [wanted]


@pytest.mark.parametrize(
    "query", ["' OR 1=1--", "2026-02-30", "%", "_", "\\", "Ωμέγα 💊", "a" * 500]
)
def test_hostile_search_strings_match_nothing_and_do_not_fail(
    client_for: ClientFor, nurse: User, patient_a: Patient, query: str
) -> None:
    response = client_for(nurse).get(URL, {"q": query})
    assert response.status_code == 200
    assert list(response.context["page"]) == []


def test_the_status_filter(client_for: ClientFor, nurse: User) -> None:
    active = PatientFactory.create(status=Patient.Status.ACTIVE)
    PatientFactory.create(status=Patient.Status.DISCHARGED)
    response = client_for(nurse).get(URL, {"status": "active"})
    assert list(response.context["page"]) == [active]


def test_htmx_search_returns_only_the_results_fragment(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response = client_for(nurse).get(
        URL, {"q": patient_a.legal_family_name}, HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in response.content
    assert patient_a.mrn.encode() in response.content


def test_it_pages_25_at_a_time(client_for: ClientFor, nurse: User) -> None:
    PatientFactory.create_batch(30)
    first = client_for(nurse).get(URL)
    second = client_for(nurse).get(URL, {"page": 2})
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5
    assert b"Page 2 of 2" in second.content


def test_the_empty_state(client_for: ClientFor, nurse: User) -> None:
    response = client_for(nurse).get(URL)
    assert b"No patients yet" in response.content


@pytest.mark.parametrize("count", [1, 50])
def test_the_query_count_does_not_grow_with_patients(
    client_for: ClientFor,
    nurse: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    PatientFactory.create_batch(count)
    client = client_for(nurse)
    client.get(URL)  # warm the session
    # Expect at most 15: session, user, OTP device, clinic profile, groups, permissions (2),
    # count, page, audit chain head (get + update), audit insert, savepoints, and the
    # header's count of open safety alerts.
    with django_assert_max_num_queries(15):
        response = client.get(URL, {"page": 2 if count > 25 else 1})
    assert response.status_code == 200
