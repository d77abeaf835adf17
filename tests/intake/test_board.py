"""The intake board: statuses with history, overdue first contact, duplicates,
conversion to a chart, audit, constant queries."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.models import ConsultationRequest
from kapcare.patients.models import Patient
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
BOARD = reverse("intake:board")


def _request(**fields: object) -> ConsultationRequest:
    values: dict[str, object] = {
        "given_name": "Lena", "family_name": "Okafor", "email": "lena@example.com",
        "phone": "+14165550177", "preferred_contact": "phone",
        "consent_to_contact_at": timezone.now(), "consent_wording": "I agree",
        "submission_key": uuid.uuid4().hex,
    }  # fmt: skip
    values.update(fields)
    consult = ConsultationRequest(**values)
    consult.search_text = consult.build_search_text()
    consult.save()
    return consult


def test_front_desk_moves_a_request_with_a_note_and_history(
    client_for: ClientFor, front_desk: User
) -> None:
    consult = _request()
    client = client_for(front_desk)
    client.post(
        reverse("intake:request_status", args=[consult.pk]),
        {"status": "contacted", "note": "Left a voicemail", "current": "new"},
    )
    consult.refresh_from_db()
    assert consult.status == "contacted"
    assert consult.first_contacted_at is not None
    change = consult.changes.get(to_status="contacted")
    assert (change.changed_by, change.note) == (front_desk, "Left a voicemail")
    page = client.get(
        reverse("intake:request_detail", args=[consult.pk])
    ).content.decode()
    assert "new → contacted: Left a voicemail" in page
    assert AuditEvent.objects.filter(
        object_type="consultation_request", action="update", actor=front_desk
    ).exists()


def test_a_move_from_a_stale_page_changes_nothing(
    client_for: ClientFor, front_desk: User, nurse: User
) -> None:
    consult = _request()
    client_for(nurse).post(
        reverse("intake:request_status", args=[consult.pk]),
        {"status": "contacted", "current": "new"},
    )
    stale = client_for(front_desk).post(
        reverse("intake:request_status", args=[consult.pk]),
        {"status": "withdrawn", "current": "new"},
        follow=True,
    )
    assert "Someone already moved this request" in stale.content.decode()
    consult.refresh_from_db()
    assert consult.status == "contacted"


def test_new_requests_past_two_business_days_are_overdue(
    client_for: ClientFor, front_desk: User
) -> None:
    friday = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
    consult = _request(created_at=friday)
    with time_machine.travel(friday + dt.timedelta(days=4), tick=False):  # Tuesday
        page = client_for(front_desk).get(BOARD).content.decode()
        assert "first contact overdue" not in page
    with time_machine.travel(friday + dt.timedelta(days=4, hours=1), tick=False):
        page = client_for(front_desk).get(BOARD).content.decode()
        assert "first contact overdue" in page
        consult.status = "contacted"
        consult.save()
        page = client_for(front_desk).get(BOARD).content.decode()
        assert "first contact overdue" not in page


def test_filters_and_search(client_for: ClientFor, front_desk: User) -> None:
    _request(given_name="Ada", family_name="Moss", email="ada@example.com")
    _request(given_name="Bo", family_name="Chen", phone="+16475550111", email="")
    _request(given_name="Cy", family_name="Vale", status="withdrawn")
    client = client_for(front_desk)

    def names(**params: str) -> set[str]:
        page = client.get(BOARD, params)
        return {c.family_name for c, _ in page.context["rows"]}

    assert names() == {"Moss", "Chen"}
    assert names(status="all") == {"Moss", "Chen", "Vale"}
    assert names(status="withdrawn") == {"Vale"}
    assert names(q="ada@") == {"Moss"}
    assert names(q="647-555-0111") == {"Chen"}
    assert names(q="chen") == {"Chen"}


def test_duplicates_are_shown_and_conversion_makes_one_chart(
    client_for: ClientFor, front_desk: User
) -> None:
    existing = PatientFactory.create(email="lena@example.com")
    consult = _request(born_on=dt.date(1990, 5, 1))
    client = client_for(front_desk)
    detail = client.get(
        reverse("intake:request_detail", args=[consult.pk])
    ).content.decode()
    assert "Possible duplicates" in detail and existing.mrn in detail
    convert_url = reverse("intake:request_convert", args=[consult.pk])
    form = client.get(convert_url).content.decode()
    assert 'value="Okafor"' in form and 'value="1990-05-01"' in form
    assert "may be someone who already has a chart" in form
    response = client.post(
        convert_url,
        {
            "legal_given_name": "Lena",
            "legal_family_name": "Okafor",
            "born_on": "1990-05-01",
            "sex_at_birth": "female",
            "email": "lena@example.com",
            "phone": "416-555-0177",
            "province": "ON",
            "status": "prospect",
        },
    )
    assert response.status_code == 302
    consult.refresh_from_db()
    assert consult.patient is not None
    assert consult.patient.legal_family_name == "Okafor"
    again = client.post(convert_url, {"legal_given_name": "x"})
    assert again.status_code == 302
    assert Patient.objects.filter(legal_family_name="Okafor").count() == 1
    assert consult.changes.filter(note__startswith="Converted to patient").exists()


def test_conversion_needs_the_add_patient_permission(
    client_for: ClientFor, clinic_admin: User
) -> None:
    consult = _request()
    url = reverse("intake:request_convert", args=[consult.pk])
    assert client_for(clinic_admin).get(url).status_code == 403


@pytest.mark.parametrize("count", [5, 5000])
def test_the_board_costs_the_same_queries_however_many_requests(
    client_for: ClientFor,
    front_desk: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    now = timezone.now()
    ConsultationRequest.objects.bulk_create(
        ConsultationRequest(
            given_name=f"P{n}",
            family_name="Bulk",
            email=f"p{n}@example.com",
            preferred_contact="email",
            consent_to_contact_at=now,
            consent_wording="I agree",
            submission_key=f"bulk-{n}",
            search_text=f"p{n} bulk p{n}@example.com",
        )
        for n in range(count)
    )
    client = client_for(front_desk)
    client.get(BOARD)
    # Expect at most 15: session, user, OTP device, clinic profile, permissions (2),
    # groups, count, the page with self-checks and charts, clinic profile for the
    # deadlines, audit write (savepoint, head, insert, update, release), the
    # header's alert count.
    with django_assert_max_num_queries(15):
        page = client.get(BOARD)
    assert len(page.context["rows"]) == min(count, 25)
