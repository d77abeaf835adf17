"""SQLite running out of room, for real: the database is capped at its current
size (PRAGMA max_page_count, which makes SQLite fail exactly as on a full disk:
SQLITE_FULL, "database or disk is full") while patients keep sending PHQ-9s from
their links. The send that needs a new page gets the friendly 503 (with the
crisis line: its item 9 is positive and could not be stored), nothing of it is
kept, everything confirmed before is whole, the audit chain verifies, and once
there is room again the same link works."""

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kapcare.audit.services import verify_audit_chain
from kapcare.lib.tokens import new_link_token
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.safety.models import SafetyAlert
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)
ANSWERS = {f"item_{n}": "1" for n in range(1, 9)} | {"item_9": "2"}


@pytest.fixture
def capped() -> Iterator[Callable[[], None]]:
    """Call it to cap the database at its present size; the cap is lifted after."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's disk-full is tested by its SQLSTATE")

    def cap() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")  # no free pages left over from earlier tests
            cursor.execute("PRAGMA freelist_count")
            assert cursor.fetchone() == (0,)
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            cursor.execute(f"PRAGMA max_page_count = {int(pages)}")

    yield cap
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count = 4294967294")


def _links(count: int) -> list[tuple[str, QuestionnaireLink]]:
    patient = PatientFactory.create()
    made = []
    for _ in range(count):
        token, digest = new_link_token()
        link = QuestionnaireLink.objects.create(
            patient=patient, instrument="phq9", token_hash=digest,
            sent_to=patient.email, expires_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
        made.append((reverse("measures:link_fill", args=[token]), link))
    return made


def test_a_full_sqlite_database_refuses_kindly_and_loses_nothing(
    capped: Callable[[], None], record_property: Callable[[str, object], None]
) -> None:
    links = _links(300)
    browser = Client(raise_request_exception=False)
    first_path, first = links.pop(0)
    assert b"Thank you" in browser.post(first_path, ANSWERS).content  # before the cap
    saved: list[QuestionnaireLink] = [first]
    capped()
    full = None
    for path, link in links:
        answer = browser.post(path, ANSWERS)
        if answer.status_code == 503:
            full = (path, link, answer)
            break
        assert answer.status_code == 200 and b"Thank you" in answer.content
        saved.append(link)
    assert full is not None, "the capped database never filled up"
    path, link, answer = full
    body = answer.content.decode()
    assert "run out of storage" in body and "not</strong> saved" in body
    assert "9-8-8" in body and answer["Retry-After"] == "30"
    link.refresh_from_db()
    assert link.used_at is None and link.response_id is None
    assert QuestionnaireResponse.objects.count() == len(saved)
    assert SafetyAlert.objects.count() == len(saved)  # one per confirmed item 9
    for done in saved:
        done.refresh_from_db()
        assert done.used_at is not None and done.response_id is not None
    checked, broken = verify_audit_chain()
    assert broken is None and checked > 0
    # room again (the administrator frees disk): the same link takes the answers
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count = 4294967294")
    retry = browser.post(path, ANSWERS)
    assert retry.status_code == 200 and b"Thank you" in retry.content
    assert QuestionnaireResponse.objects.count() == len(saved) + 1
    record_property("security: faults injected (SQLite disk full)", 1)
    print(  # noqa: T201 - the figures, in the log
        f"SQLite disk full: {len(saved)} questionnaire(s) stored before the database "
        "filled up; the next one refused with a 503, nothing of it kept; it went "
        "through once there was room"
    )
